"""`tongchou hub --catalog` without `--upstream`: the hub process serves its shared platforms'
instances to consoles; a broken catalog says where and exits 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.client import HubClient
from console.documents.builtin import sample_dir
from tests.e2e.conftest import Launcher

pytestmark = pytest.mark.slow

SAMPLE = sample_dir()


async def test_a_hub_serves_the_catalog_it_was_given(launch: Launcher) -> None:
    hub = launch.hub("--fleet", str(SAMPLE), "--catalog", str(SAMPLE / "planning" / "catalog.yaml"))
    async with HubClient(hub.address) as client:
        instances = await client.platform_instances()
    seal = [(i.site, i.mlps_level, i.site_mlps_level) for i in instances if i.platform == "e-seal"]
    assert seal == [("gd-huawei-gz", 3, 3)]
    assert len(instances) == 10


def test_a_broken_catalog_names_the_file_and_exits_2(launch: Launcher, tmp_path: Path) -> None:
    bad = tmp_path / "catalog.yaml"
    bad.write_text(
        "apiVersion: tongchou.io/v1\nkind: Platform\nmetadata: {name: p}\n"
        "spec: {displayName: P, baseResources: {cpu: '1', memory: 1Gi}, perUnit: {cpu: 100m,"
        " memory: 1Gi}, buildCostCny: 1, minLevel: city, instances: [{site: nowhere}]}\n",
        encoding="utf-8",
    )
    hub = launch.spawn(
        "hub", "hub", "--insecure", "--store", str(tmp_path / "hub.db"),
        "--fleet", str(SAMPLE), "--catalog", str(bad),
    )  # fmt: skip
    assert hub.popen.wait(60) == 2, hub.text()
    assert str(bad) in hub.text() and "nowhere" in hub.text()
