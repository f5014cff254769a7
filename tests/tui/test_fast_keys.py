"""Keys typed faster than the console handles them: Enter in a filter gives the keys back
before the next key is read, so a view key right after it switches views."""

from __future__ import annotations

import pytest
from textual import events
from textual.widgets import Input, TabbedContent

from console.tui.app import TongchouApp
from tests.tui.fake_hub import FakeHub, snapshot
from tests.tui.test_app import until
from tests.tui.test_keys import shown


@pytest.mark.parametrize(("view", "box"), [("n", "#node-filter"), ("e", "#event-filter")])
async def test_a_view_key_right_after_enter_leaves_the_filter(view: str, box: str) -> None:
    app = TongchouApp(FakeHub([snapshot(12)]))
    async with app.run_test(size=(100, 30)) as pilot:
        await shown(pilot, app)
        await pilot.press(view, "slash", "x")
        for key, char in (("enter", "\r"), ("c", "c")):  # both queued before either is handled
            app.post_message(events.Key(key, char))
        tabs = app.query_one(TabbedContent)
        await until(pilot, lambda: tabs.active == "tab-clusters", "the clusters view")
        assert app.query_one(box, Input).value == "x"  # the filter kept, nothing typed into it
