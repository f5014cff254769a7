"""Saved filters: `F` names the current filter, `f` (or the palette) applies a saved one; they
live in a JSON file under the state directory and survive the console."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Input

from console.tui.app import TongchouApp
from console.tui.panes.filters import NameFilter, PickFilter
from console.tui.saved_filters import SavedFilters, SavedFiltersError
from console.tui.widgets.fleet_table import FleetTable
from tests.tui.fake_hub import FakeHub, snapshot
from tests.tui.test_app import until
from tests.tui.test_keys import shown

SIZE = (100, 30)


def test_the_file_round_trips_and_a_bad_one_is_named(tmp_path: Path) -> None:
    path = tmp_path / "state" / "filters.json"
    saved = SavedFilters(path)
    saved.load()  # none yet: no filters
    saved.put("nodes", "天河 lost", "天河 失联")
    saved.write()
    again = SavedFilters(path)
    again.load()
    assert again.get("nodes", "天河 lost") == "天河 失联"
    assert again.names("events") == []
    path.write_text('{"nodes": {"a": 1}}')
    with pytest.raises(SavedFiltersError, match=r"nodes\.a: a filter is text"):
        SavedFilters(path).load()
    path.write_text('{\n  "nodes": {"a": "x",}\n}')
    with pytest.raises(SavedFiltersError, match=rf"{path}:2: not JSON"):
        SavedFilters(path).load()


async def test_save_a_filter_clear_it_and_recall_it(tmp_path: Path) -> None:
    path = tmp_path / "filters.json"
    app = TongchouApp(FakeHub([snapshot(12)]), filters_file=path)
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        table = app.query_one("#node-table", FleetTable)
        await pilot.press("n", "F")  # nothing typed yet: nothing to save
        await until(pilot, lambda: any("no filter" in n.message for n in app._notifications), "")
        assert not isinstance(app.screen, NameFilter)
        await pilot.press("slash", *"node-001", "enter")
        await until(pilot, lambda: table.row_count == 1, "one node")
        await pilot.press("F")
        assert isinstance(app.screen, NameFilter)
        await pilot.press(*"first", "enter")
        await until(pilot, path.exists, "the file")
        assert json.loads(path.read_text()) == {"events": {}, "nodes": {"first": "node-001"}}
        await pilot.press("escape", "escape")  # leaves the table's filter: every node again
        await until(pilot, lambda: table.row_count == 12, "every node")
        await pilot.press("e", "f")  # the Events view has its own (none yet)
        await until(
            pilot, lambda: any("no saved filters" in n.message for n in app._notifications), ""
        )
        await pilot.press("n", "f")
        assert isinstance(app.screen, PickFilter)
        await pilot.press("enter")
        await until(pilot, lambda: table.row_count == 1, "the saved filter applied")
        assert app.query_one("#node-filter", Input).value == "node-001"
        assert app.focused is table  # view keys work at once
    # a second console reads them back and offers them in the palette
    app = TongchouApp(FakeHub([snapshot(12)]), filters_file=path, lang="zh")
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        await until(pilot, lambda: app.saved.names("nodes") == ["first"], "the file read")
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert "节点筛选：first" in commands
        await pilot.press("e")
        commands["节点筛选：first"].callback()
        table = app.query_one("#node-table", FleetTable)
        await until(pilot, lambda: table.row_count == 1, "recalled from the palette")
        assert app.active_tab() == "nodes"


async def test_an_unreadable_file_is_said_and_the_console_runs_on(tmp_path: Path) -> None:
    path = tmp_path / "filters.json"
    path.write_text("[1, 2]")
    app = TongchouApp(FakeHub([snapshot(4)]), filters_file=path)
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        await until(
            pilot,
            lambda: any(str(path) in n.message for n in app._notifications),
            "the notice",
        )
        await pilot.press("n", "f")
        assert not isinstance(app.screen, PickFilter)
