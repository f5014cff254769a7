"""ListPlatformInstances on a real hub: the shared platforms of its catalog, each instance with
its 等保 level, its site's division and level, and its tenants; and `--catalog` on any hub."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from console.client import HubClient, HubError
from console.documents import load_documents
from console.documents.builtin import sample_dir
from console.documents.planning import planning_input
from console.hub import cli as hub_cli
from console.hub.api.catalog import Catalog
from console.hub.config import HubConfig
from console.hub.fleet.inventory import Inventory
from console.hub.rollup.cli_options import with_rollup
from console.hub.server import Hub
from console.model.fleet import Fleet
from console.model.planning import Amount, Platform, PlatformInstance
from console.store import SqliteStore
from tongchou.divisions import Level

SAMPLE = sample_dir()
CATALOG = SAMPLE / "planning" / "catalog.yaml"

# a level-3 platform at 从化's level-2 data center, serving 从化, 天河 and 越秀
LOW = Platform(
    name="district-video",
    display_name="视频会议",
    base=Amount(8000, 16 * 2**30),
    per_unit=Amount(100, 2**30),
    build_cost_cny=400_000,
    min_level=Level.COUNTY,
    instances=(PlatformInstance("conghua-dc", ("440117", "440106", "440104")),),
    mlps_level=3,
)


def sample_platforms() -> tuple[Platform, ...]:
    return tuple(planning_input(load_documents([SAMPLE, CATALOG])).platforms.values())


@pytest.fixture
async def client(tmp_path: Path, sample_fleet: Fleet) -> AsyncIterator[HubClient]:
    config = HubConfig(
        listen="127.0.0.1:0", metrics_listen="", platforms=(*sample_platforms(), LOW)
    )
    hub = Hub(config, SqliteStore(tmp_path / "hub.db"))
    hub.load_fleet(sample_fleet)
    await hub.start()
    try:
        async with HubClient(f"127.0.0.1:{hub.port}") as out:
            yield out
    finally:
        await hub.shutdown()


async def test_every_instance_with_its_level_site_and_tenants(client: HubClient) -> None:
    instances = await client.platform_instances()
    keys = [(i.platform, i.site) for i in instances]
    assert keys == sorted(keys)
    identity = {i.site: i for i in instances if i.platform == "unified-identity"}
    gz = identity["gd-tianyi-gz"]
    assert (gz.display_name, gz.mlps_level, gz.division, gz.site_mlps_level) == (
        "统一身份认证", 3, "440000", 3,
    )  # fmt: skip
    assert list(gz.tenants) == ["440000", "440100", "440600", "441300", "441900"]
    assert gz.tenants_elsewhere == 0
    low = next(i for i in instances if i.platform == "district-video")
    assert (low.mlps_level, low.site_mlps_level, low.division) == (3, 2, "440117")


async def test_a_subtree_lists_what_serves_it_and_counts_the_other_tenants(
    client: HubClient,
) -> None:
    tianhe = await client.platform_instances("440106")
    assert [(i.platform, list(i.tenants), i.tenants_elsewhere) for i in tianhe] == [
        ("district-video", ["440106"], 2)
    ]
    conghua = await client.platform_instances("440117")  # the site is there: one tenant too
    assert [(i.site, list(i.tenants), i.tenants_elsewhere) for i in conghua] == [
        ("conghua-dc", ["440117"], 2)
    ]
    assert await client.platform_instances("441422100") == []


async def test_a_malformed_division_is_invalid_argument(client: HubClient) -> None:
    with pytest.raises(HubError) as err:
        await client.platform_instances("4401")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "division" in (err.value.details() or "")


def test_any_hub_takes_a_catalog_without_upstream() -> None:
    parser = argparse.ArgumentParser()
    hub_cli.add_arguments(parser)
    args = parser.parse_args(["--insecure", "--fleet", str(SAMPLE), "--catalog", str(CATALOG)])
    config = with_rollup(HubConfig(), args, Fleet())
    assert config.upstream is None
    assert {p.name for p in config.platforms} >= {"unified-identity", "e-seal"}


def test_the_catalog_reads_the_documents_not_the_nodes(sample_fleet: Fleet) -> None:
    catalog = Catalog(Inventory())
    found = catalog.platform_instances(sample_fleet, (LOW,), "440106")
    assert [(i.site_mlps_level, list(i.tenants)) for i in found] == [(2, ["440106"])]
    assert catalog.builds == 0  # no sum over the fleet's nodes on the event loop
