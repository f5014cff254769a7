"""A province hub reporting to a national hub, as real processes: the national view has the
province and its divisions (no node data); the province hub killed: shown stale, not dropped;
restarted: fresh again."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from textual.widgets import DataTable

from console.client import HubClient
from console.tui.national import NationalApp
from tests.e2e.conftest import HubProc, Launcher, Proc
from tests.e2e.waiting import eventually
from tests.rollup.conftest import NODES
from tongchou.v1 import rollup_pb2

pytestmark = pytest.mark.slow


def province_hub(
    launch: Launcher, national: HubProc, fleet: Path, catalog: Path, store: Path
) -> HubProc:
    return launch.hub(
        "--fleet", str(fleet), "--catalog", str(catalog),
        "--upstream", national.address, "--upstream-insecure", "--upstream-interval", "1s",
        store=store,
    )  # fmt: skip


def simulate(launch: Launcher, fleet: Path, hub: HubProc) -> Proc:
    return launch.spawn(
        "simulate", "simulate", "--fleet", str(fleet), "--hub", hub.address, "--insecure",
        "--interval", "0.5s",
    )  # fmt: skip


async def row_of(client: HubClient, **want: object) -> rollup_pb2.ProvinceRow | None:
    rows = {r.province: r for r in await client.provinces()}
    row = rows.get("440000")
    if row is None or any(getattr(row, k) != v for k, v in want.items()):
        return None
    return row


async def test_province_reports_goes_stale_and_comes_back(
    launch: Launcher, tmp_path: Path, fleet_file: Path, catalog_file: Path
) -> None:
    national = launch.hub("--national", "--stale-after", "3s", store=tmp_path / "national.db")
    store = tmp_path / "province.db"
    province = province_hub(launch, national, fleet_file, catalog_file, store)
    simulate(launch, fleet_file, province)
    async with HubClient(national.address) as client:

        async def all_nodes() -> rollup_pb2.ProvinceRow | None:
            row = await row_of(client, stale=False)
            return row if row is not None and row.capacity.nodes_ready == len(NODES) else None

        row = await eventually(all_nodes, 40, "the province's nine nodes on the national hub")
        assert row.name == "广东省"
        assert row.capacity.cpu_cores == 64 * len(NODES)
        assert row.capacity.domestic_cpu_cores == 64 * len(NODES)  # Hygon: 信创
        view = await client.province("440000")
        by_code = {d.code: d for d in view.divisions}
        assert set(by_code) == {"440000", "440100"}
        city = by_code["440100"]
        assert (city.name, city.level, city.capacity.nodes) == ("广州市", "city", len(NODES))
        assert 0 < city.capacity.idle_cpu_cores <= city.capacity.cpu_cores
        [identity] = city.platforms
        assert (identity.platform, identity.site) == ("identity", "site-a")
        assert list(identity.tenants) == ["440000", "440100"]
        wire = view.SerializeToString()
        assert not any(name.encode() in wire for name in NODES)  # no node-level data

        province.stop(signal.SIGKILL)
        stale = await eventually(lambda: row_of(client, stale=True), 20, "the province stale")
        assert stale.age_seconds > 3
        assert stale.capacity.nodes == len(NODES)  # still shown, with its last figures
        later = await eventually(lambda: row_of(client, stale=True), 10, "still listed")
        assert later.age_seconds >= stale.age_seconds

        national.stop()  # the national hub keeps what it stored over a restart
        national = launch.hub("--national", "--stale-after", "3s", store=tmp_path / "national.db")
    async with HubClient(national.address) as client:
        kept = await eventually(lambda: row_of(client, stale=True), 20, "kept over a restart")
        assert kept.capacity.nodes == len(NODES)
        province = province_hub(launch, national, fleet_file, catalog_file, store)
        fresh = await eventually(lambda: row_of(client, stale=False), 30, "fresh again")
        assert fresh.age_seconds < 3
    # the national console over the real national hub: the province, then its divisions
    app = NationalApp(HubClient(national.address))
    async with app.run_test(size=(160, 30)) as pilot:
        await app.workers.wait_for_complete()
        provinces = app.query_one("#provinces", DataTable)
        assert str(provinces.get_row_at(0)[1]) == "广东省"
        provinces.focus()
        await pilot.press("enter")
        await pilot.pause(0.5)
        divisions = app.query_one("#divisions", DataTable)
        assert [str(divisions.get_row_at(i)[0]) for i in range(divisions.row_count)] == [
            "440000",
            "440100",
        ]
