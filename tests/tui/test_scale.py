"""The Workloads view's `v`: a workload's stored YAML, read-only, and its replicas to scale."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Static, TextArea

from console.tui.app import TongchouApp
from console.tui.panes.workload_dialog import WorkloadDialog
from tests.tui.fake_hub import FakeHub, snapshot
from tests.tui.test_app import until
from tests.tui.test_keys import shown
from tongchou.v1 import workloads_pb2

SIZE = (100, 30)


def hub_with_workloads() -> FakeHub:
    hub = FakeHub([snapshot(4)])
    placed = [workloads_pb2.ClusterReplicas(cluster="cluster-440106", replicas=3)]
    hub.statuses += [
        workloads_pb2.WorkloadStatus(name="portal", replicas=3, placed=placed),
        workloads_pb2.WorkloadStatus(name="protected", replicas=1),
    ]
    return hub


def notified(app: TongchouApp, words: str) -> bool:
    return any(words in n.message for n in app._notifications)


async def test_v_shows_the_yaml_read_only_and_enter_scales() -> None:
    hub = hub_with_workloads()
    app = TongchouApp(hub, refresh_every=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        await pilot.press("w")
        table = app.query_one("#workload-table", DataTable)
        await until(pilot, lambda: table.row_count == 2, "two workloads")
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, WorkloadDialog), "the dialog")
        yaml_view = app.screen.query_one(TextArea)
        assert yaml_view.read_only
        assert "replicas: 3  # as submitted" in yaml_view.text
        count = app.screen.query_one("#scale-replicas", Input)
        assert count.has_focus and count.value == "3"
        await pilot.press("q", "w")  # view keys are not counts: nothing typed, nothing left
        assert isinstance(app.screen, WorkloadDialog) and count.value == "3"
        await pilot.press("enter")  # unchanged: closes without asking the hub
        await until(pilot, lambda: not isinstance(app.screen, WorkloadDialog), "closed")
        assert hub.scaled == []
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, WorkloadDialog), "the dialog again")
        await pilot.press("backspace", "5", "escape")  # Escape: nothing changes
        await until(pilot, lambda: not isinstance(app.screen, WorkloadDialog), "closed")
        assert hub.scaled == []
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, WorkloadDialog), "the dialog again")
        await pilot.press("backspace", "5", "enter")
        await until(pilot, lambda: hub.scaled == [("portal", 5)], "the scale")
        await until(pilot, lambda: notified(app, "portal scaled to 5: 3 placed, 2 pending"), "ok")
        await until(pilot, lambda: str(table.get_row("portal")[1]) == "3/5", "the new count")
        assert app.focused is table


async def test_refusals_and_bad_counts_are_said_and_change_nothing() -> None:
    hub = hub_with_workloads()
    app = TongchouApp(hub, refresh_every=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        await pilot.press("w")
        table = app.query_one("#workload-table", DataTable)
        await until(pilot, lambda: table.row_count == 2, "two workloads")
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, WorkloadDialog), "the dialog")
        await pilot.press("backspace", "-", "1", "enter")
        note = app.screen.query_one("#scale-note", Static)
        assert "not a replica count" in str(note.render())
        await pilot.press("backspace", "backspace", "2", "0", "0", "0", "0", "enter")
        await until(pilot, lambda: notified(app, "spec.replicas: above 10000"), "the bound")
        await pilot.press("down", "v")
        await until(pilot, lambda: isinstance(app.screen, WorkloadDialog), "the dialog")
        await pilot.press("backspace", "4", "enter")
        await until(pilot, lambda: notified(app, "may not call ScaleWorkload"), "the refusal")
        assert hub.scaled == []


async def test_a_role_that_may_not_scale_sees_the_yaml_only_in_chinese_too() -> None:
    hub = hub_with_workloads()
    app = TongchouApp(hub, refresh_every=0.1, lang="zh")
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        app.allowed = {"/tongchou.v1.WorkloadService/GetWorkloadDocument"}
        await pilot.press("w")
        table = app.query_one("#workload-table", DataTable)
        await until(pilot, lambda: table.row_count == 2, "two workloads")
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, WorkloadDialog), "the dialog")
        count = app.screen.query_one("#scale-replicas", Input)
        assert count.disabled
        assert isinstance(app.focused, TextArea)
        assert "工作负载 portal" in str(app.screen.query_one("#yaml-title", Static).render())
        assert "不能扩缩容" in str(app.screen.query_one("#scale-note", Static).render())
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, WorkloadDialog), "closed")
        app.allowed = set()  # nor read the document: the key does nothing
        app.refresh_bindings()
        await pilot.press("v")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, WorkloadDialog)
