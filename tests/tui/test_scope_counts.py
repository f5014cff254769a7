"""The Events view's one line of what the hub counted outside the caller's scope."""

from __future__ import annotations

from textual.widgets import Static

from console.tui.app import TongchouApp
from tests.tui.fake_hub import FakeHub, snapshot
from tests.tui.test_app import SIZE, until
from tongchou.v1 import inventory_pb2


async def test_events_view_counts_what_lies_outside_the_scope_in_both_languages() -> None:
    first = snapshot(3)
    first.events_elsewhere = 4
    hub = FakeHub([first])
    app = TongchouApp(hub)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view.ready, "the snapshot")
        await pilot.press("e")
        count = app.query_one("#event-count", Static)
        hub.push(inventory_pb2.InventoryDelta(changed_elsewhere=7, events_elsewhere=2))
        line = "outside your scope since connecting: 7 node changes and 6 events"
        await until(pilot, lambda: line in str(count.render()), "the counts")
        await pilot.press("l")
        zh = "连接以来辖区外：7 次节点变更、6 条事件"
        await until(pilot, lambda: zh in str(count.render()), "the counts in Chinese")


async def test_events_view_has_no_such_line_when_nothing_lies_outside() -> None:
    app = TongchouApp(FakeHub([snapshot(3)]))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view.ready, "the snapshot")
        await pilot.press("e")
        count = app.query_one("#event-count", Static)
        await until(pilot, lambda: "1 of 1 rows" in str(count.render()), "the row count")
        assert "outside" not in str(count.render())
