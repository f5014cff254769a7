"""What an operator does daily: pause the screen, see how old the data is, export a table."""

from __future__ import annotations

import csv
from pathlib import Path

from textual.widgets import DataTable, Static

from console.tui.app import TongchouApp
from console.tui.freshness import Freshness
from console.tui.panes.confirm import Confirm
from console.tui.widgets.fleet_table import FleetTable
from tests.tui.fake_hub import FakeHub, node, snapshot
from tests.tui.screen_text import screen_text
from tests.tui.test_app import until
from tests.tui.test_keys import shown
from tongchou.v1 import inventory_pb2, workloads_pb2

SIZE = (140, 40)


def test_freshness_in_words() -> None:
    fresh = Freshness(last=100.0, connected=True)
    assert fresh.words("en", 105.0) == ""
    assert fresh.words("en", 142.0) == "data 42s old"
    fresh.connected = False
    assert fresh.stale(101.0)
    fresh.paused = True
    assert fresh.words("zh", 101.0) == "⏸ 已暂停（按 z 继续） · 数据已 1 秒未更新"


async def test_pause_freezes_the_table_and_resume_catches_up() -> None:
    hub = FakeHub([snapshot(6)])
    app = TongchouApp(hub)
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        await pilot.press("n", "z")
        assert "paused" in app.sub_title
        table = app.query_one("#node-table", FleetTable)

        def shown_row() -> str:
            return next(line for line in screen_text(app) if "node-001" in line)

        before = shown_row()
        busy = node(1)
        busy.last_sequence = 2
        busy.usage.cpu_ratio = 0.99
        hub.push(inventory_pb2.InventoryDelta(upserted=[busy]))
        await until(pilot, lambda: app.view.nodes["node-001"].usage.cpu_ratio == 0.99, "data")
        await pilot.pause(0.3)
        assert shown_row() == before  # frozen while paused
        await pilot.press("z")
        assert "paused" not in app.sub_title
        await until(pilot, lambda: "99.0%" in shown_row(), "the update")
        assert table.row_count == 6


async def test_a_hub_gone_away_dims_the_data_and_says_its_age() -> None:
    hub = FakeHub([snapshot(4)])
    app = TongchouApp(hub)
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        tabs = app.query_one("#tabs")
        assert not tabs.has_class("-stale")
        hub.drop()
        await until(pilot, lambda: tabs.has_class("-stale"), "the dimming")
        assert app.query_one("#banner").display
        await until(pilot, lambda: "data 1s old" in app.sub_title, "the age")


async def test_export_the_filtered_node_table_as_csv(tmp_path: Path) -> None:
    app = TongchouApp(FakeHub([snapshot(12)]), export_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        table = app.query_one("#node-table", FleetTable)
        await pilot.press("slash", *"kunpeng", "enter")
        await until(pilot, lambda: table.row_count == 4, "the kunpeng nodes")
        await pilot.press("E")
        await until(pilot, lambda: bool(list(tmp_path.glob("nodes-*.csv"))), "the export")
        await pilot.press("c", "E")
        await until(pilot, lambda: bool(list(tmp_path.glob("clusters-*.csv"))), "clusters")
    nodes = read_csv(tmp_path, "nodes-*.csv")
    assert nodes[0][:3] == ["Node", "State", "Cores"]
    assert [r[0] for r in nodes[1:]] == ["node-001", "node-004", "node-007", "node-010"]
    assert len(read_csv(tmp_path, "clusters-*.csv")) == 1 + 4


def read_csv(folder: Path, pattern: str) -> list[list[str]]:
    [path] = folder.glob(pattern)
    with path.open(encoding="utf-8") as f:
        return list(csv.reader(f))


async def test_delete_a_workload_after_a_yes_and_escape_keeps_it() -> None:
    hub = FakeHub([snapshot(4)])
    hub.statuses += [
        workloads_pb2.WorkloadStatus(name="portal", replicas=1),
        workloads_pb2.WorkloadStatus(name="protected", replicas=1),
    ]
    app = TongchouApp(hub, refresh_every=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        await pilot.press("w")
        table = app.query_one("#workload-table", DataTable)
        await until(pilot, lambda: table.row_count == 2, "two workloads")
        await pilot.press("d")
        assert isinstance(app.screen, Confirm)
        await pilot.press("escape")
        assert not isinstance(app.screen, Confirm) and hub.deleted == []
        await pilot.press("d", "y")
        await until(pilot, lambda: hub.deleted == ["portal"], "the delete")
        await until(pilot, lambda: table.row_count == 1, "one left")
        await pilot.press("d", "y")  # the hub refuses: the role may not
        await until(
            pilot,
            lambda: any("may not call DeleteWorkload" in n.message for n in app._notifications),
            "the refusal",
        )
        assert table.row_count == 1


async def test_the_audit_view_for_an_auditor_and_a_word_for_others() -> None:
    hub = FakeHub([snapshot(4)])
    app = TongchouApp(hub, refresh_every=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        await pilot.press("a")
        table = app.query_one("#audit-table", FleetTable)
        await until(pilot, lambda: table.row_count == 2, "two records")
        assert app.focused is table
        assert [str(c) for c in table.get_row(table.keys[-1])[4:7]] == [
            "workload.delete", "video", "denied",
        ]  # fmt: skip
        await pilot.pause(0.3)  # polled again from the newest record: no duplicates
        assert table.row_count == 2
    hub = FakeHub([snapshot(4)])
    hub.auditor = False
    app = TongchouApp(hub, refresh_every=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        await pilot.press("a")
        note = app.query_one("#audit-note", Static)
        await until(pilot, lambda: "needs an auditor role" in str(note.render()), "the note")
