"""A read-only console (a wall screen) neither shows nor runs any action that changes the hub
or reads or writes a file of the machine it runs on; a normal console still does."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, TabbedContent

from console.tui.app import TongchouApp
from console.tui.i18n import text
from console.tui.panes.confirm import Confirm
from console.tui.readonly import REFUSED
from tests.tui.fake_hub import FakeHub, snapshot
from tests.tui.test_app import until
from tests.tui.test_keys import shown
from tongchou.v1 import workloads_pb2

SIZE = (140, 40)
MUTATING_KEYS = ("s", "d", "r", "k", "j", "E")


def hub_with_a_workload() -> FakeHub:
    hub = FakeHub([snapshot(6)])
    hub.statuses.append(workloads_pb2.WorkloadStatus(name="portal", replicas=1))
    return hub


def shown_inputs(app: TongchouApp) -> list[str]:
    return [box.id or "" for box in app.query(Input) if box.display]


async def test_read_only_refuses_every_mutating_key(tmp_path: Path) -> None:
    hub = hub_with_a_workload()
    app = TongchouApp(hub, refresh_every=0.1, export_dir=tmp_path, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        await pilot.press("w")
        await until(pilot, lambda: app.query_one(TabbedContent).active == "tab-workloads", "w")
        for key in MUTATING_KEYS:
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, Confirm), key
            assert shown_inputs(app) == [], key
            await pilot.press("y", "enter")  # a yes or an Enter reaches nothing
        await pilot.pause(0.3)
        assert (hub.submitted, hub.deleted, hub.planned, hub.checked) == ([], [], [], [])
        assert not any(tmp_path.iterdir())  # noqa: ASYNC240 (a test's own temp folder)
        assert "read-only" in app.sub_title
        shown_keys = {b.binding.key for b in app.active_bindings.values() if b.binding.show}
        assert not shown_keys & {"s", "r", "d"}


async def test_read_only_palette_has_no_mutating_command() -> None:
    app = TongchouApp(hub_with_a_workload(), read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        normal = TongchouApp(hub_with_a_workload())
        every = {command.title for command in normal.get_system_commands(app.screen)}
        assert every - titles == {
            "submit a workload",
            "run the planner",
            "export the plan",
            "check policies",
        }
        assert text("en", "cmd_filter") in titles  # what only reads stays


async def test_read_only_mark_is_translated() -> None:
    app = TongchouApp(hub_with_a_workload(), lang="zh", read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        assert "只读" in app.sub_title


async def test_a_normal_console_still_asks_and_deletes(tmp_path: Path) -> None:
    hub = hub_with_a_workload()
    app = TongchouApp(hub, refresh_every=0.1, export_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        await pilot.press("w")
        await pilot.pause(0.3)
        await pilot.press("d")
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await until(pilot, lambda: hub.deleted == ["portal"], "the delete")
        await pilot.press("s")
        await until(pilot, lambda: shown_inputs(app) != [], "the path box")
        assert "read-only" not in app.sub_title
        assert {"submit", "delete_workload", "run_plan"} <= REFUSED
