"""Snapshots of the situation view (态势) on a seeded fleet: a 100×30 terminal in English and a
200×50 wall screen in Chinese (`--snapshot-update` after an intended change; docs/console.md
shows the same two screens)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from textual.pilot import Pilot

from console.tui.app import TongchouApp
from tests.tui.screen_text import screen_text
from tests.tui.situation_fleet import hub

Compare = Callable[..., bool]


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Event times are shown in local time: the snapshots are taken in UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def situation(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, TongchouApp)
    for _ in range(200):
        if app.view.ready and app.division_names:
            break
        await pilot.pause(0.05)
    await pilot.press("b")
    for _ in range(200):
        screen = "\n".join(screen_text(app))
        if "cluster-441422" in screen and "site-440305" in screen:  # failovers and tenants
            break
        await pilot.pause(0.05)
    await pilot.pause()


def test_situation_terminal_english(snap_compare: Compare) -> None:
    app = TongchouApp(hub(), clock=False, lang="en")
    assert snap_compare(app, terminal_size=(100, 30), run_before=situation)


def test_situation_wall_chinese(snap_compare: Compare) -> None:
    app = TongchouApp(hub(), clock=False, lang="zh")
    assert snap_compare(app, terminal_size=(200, 50), run_before=situation)
