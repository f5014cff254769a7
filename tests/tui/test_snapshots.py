"""Snapshots of the main views on a seeded fleet (pytest-textual-snapshot; `--snapshot-update`
after an intended change, then look at the SVGs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable

from console.tui.app import TongchouApp
from tests.tui.fake_hub import FakeHub, snapshot

SIZE = (120, 36)
Compare = Callable[..., bool]


def app() -> TongchouApp:
    return TongchouApp(FakeHub([snapshot(24)]), clock=False)


async def ready(pilot: Pilot[Any]) -> None:
    target = pilot.app
    assert isinstance(target, TongchouApp)
    for _ in range(100):
        if target.view.ready:
            break
        await pilot.pause(0.05)
    await pilot.pause()


def test_overview(snap_compare: Compare) -> None:
    assert snap_compare(app(), terminal_size=SIZE, run_before=ready)


def test_nodes_filtered(snap_compare: Compare) -> None:
    async def filtered(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("slash", *"hygon")
        table = pilot.app.query_one("#node-table", DataTable)
        for _ in range(200):  # the filter applies once typing pauses
            if 0 < table.row_count < 24:
                break
            await pilot.pause(0.05)
        await pilot.pause()

    assert snap_compare(app(), terminal_size=SIZE, run_before=filtered)


def test_nodes_in_chinese(snap_compare: Compare) -> None:
    async def chinese(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("n", "l")
        await pilot.pause()

    assert snap_compare(app(), terminal_size=SIZE, run_before=chinese)
