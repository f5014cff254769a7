"""Keys never trap: view keys work outside text input, Escape leaves any input or dialog, each
view focuses its table, help lists every key, and the vital keys stay on a 100-column footer."""

from __future__ import annotations

import pytest
from textual.binding import Binding
from textual.pilot import Pilot
from textual.widgets import Input, TabbedContent

from console.tui.app import FOCUS, FOOTER, TongchouApp, every_binding
from console.tui.help import Help, help_key, key_name
from console.tui.i18n import LABELS, text
from console.tui.widgets.fleet_table import FleetTable
from tests.tui.fake_hub import FakeHub, node, snapshot
from tests.tui.screen_text import screen_text
from tests.tui.test_app import until
from tongchou.v1 import common_pb2, inventory_pb2

SIZE = (140, 40)


async def shown(pilot: Pilot[None], app: TongchouApp) -> None:
    """Waits until the first snapshot is on screen (keys before that reach no view)."""
    await until(pilot, lambda: app.view.ready and bool(app.query_one("#tabs").display), "views")
    await pilot.pause()


async def test_after_the_filter_view_keys_work_again() -> None:
    app = TongchouApp(FakeHub([snapshot(12)]))
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        await pilot.press("n", "slash", "enter", "c")
        tabs = app.query_one(TabbedContent)
        await until(pilot, lambda: tabs.active == "tab-clusters", "the clusters view")
        assert not isinstance(app.focused, Input)


async def test_the_filter_then_q_quits() -> None:
    app = TongchouApp(FakeHub([snapshot(12)]))
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        await pilot.press("n", "slash", *"hygon", "enter", "q")
        await until(pilot, lambda: not app.is_running, "the app to quit")


async def test_escape_closes_and_clears_the_filter() -> None:
    app = TongchouApp(FakeHub([snapshot(12)]))
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        table = app.query_one("#node-table", FleetTable)
        await pilot.press("n", "slash", *"hygon")
        await until(pilot, lambda: table.row_count == 4, "the hygon nodes")
        await pilot.press("escape")
        box = app.query_one("#node-filter", Input)
        assert box.display is False and app.focused is table
        await until(pilot, lambda: table.row_count == 12, "every node again")
        await pilot.press("w")
        assert app.query_one(TabbedContent).active == "tab-workloads"


@pytest.mark.parametrize(("key", "box"), [("s", "#submit-path"), ("r", "#plan-path"),
                                          ("k", "#check-path")])  # fmt: skip
async def test_escape_leaves_every_path_input(key: str, box: str) -> None:
    app = TongchouApp(FakeHub([snapshot(4)]))
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        await pilot.press(key, *"/tm")
        assert isinstance(app.focused, Input) and app.focused.id == box.lstrip("#")
        await pilot.press("escape")
        assert app.query_one(box, Input).display is False
        assert not isinstance(app.focused, Input)
        await pilot.press("o")
        assert app.query_one(TabbedContent).active == "tab-overview"


async def test_the_palette_shows_overview_from_a_filter_and_it_stays() -> None:
    app = TongchouApp(FakeHub([snapshot(4)]))
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        await pilot.press("n", "slash", *"hy")
        await pilot.press("ctrl+p", *"show Overview")
        await pilot.pause(0.5)
        await pilot.press("enter")
        tabs = app.query_one(TabbedContent)
        await until(pilot, lambda: tabs.active == "tab-overview", "the overview")
        await pilot.pause(0.3)
        assert tabs.active == "tab-overview"
        assert app.focused is app.query_one("#divisions")


@pytest.mark.parametrize("tab", list(FOCUS))
async def test_every_view_key_focuses_its_table(tab: str) -> None:
    keys = {b.action: b.key for b in TongchouApp.BINDINGS if isinstance(b, Binding)}
    app = TongchouApp(FakeHub([snapshot(4)]))
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        await pilot.press("n" if tab != "nodes" else "e")  # start elsewhere
        await pilot.press(keys[f"tab('{tab}')"])
        await pilot.pause()
        assert app.query_one(TabbedContent).active == f"tab-{tab}"
        assert app.focused is app.query_one(FOCUS[tab])


def test_every_key_has_a_help_line_in_both_languages() -> None:
    for binding in every_binding():
        label = help_key(binding)
        assert label in LABELS["en"], f"{binding.key} ({binding.action}) has no help line"
        assert label in LABELS["zh"], f"{binding.key} ({binding.action}) has no Chinese help"
    for action, label in FOOTER.items():
        assert label in LABELS["zh"], f"the footer's {action} has no Chinese label"


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_help_lists_every_key(lang: str) -> None:
    app = TongchouApp(FakeHub([snapshot(3)]), lang=lang)
    async with app.run_test(size=(100, 30)) as pilot:
        await shown(pilot, app)
        await pilot.press("question_mark")
        await pilot.pause()
        shown_text = "\n".join(screen_text(app))
        # at 100×30 the help scrolls: its end is one key (end) away
        await pilot.press("end")
        await pilot.pause()
        shown_text += "\n".join(screen_text(app))
        for binding in every_binding():
            assert key_name(app, binding) in shown_text, binding
            assert text(lang, help_key(binding)).split("：")[0][:20] in shown_text, binding
        await pilot.press("escape")
        assert not isinstance(app.screen, Help)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_help_and_quit_stay_on_a_100_column_footer(lang: str) -> None:
    app = TongchouApp(FakeHub([snapshot(3)]), lang=lang)
    async with app.run_test(size=(100, 30)) as pilot:
        await shown(pilot, app)
        for view in "onctwype":
            await pilot.press(view)
            await pilot.pause()
            footer = screen_text(app)[-1]
            assert f"? {text(lang, 'key_help')}" in footer, (view, footer)
            assert f"q {text(lang, 'key_quit')}" in footer, (view, footer)


async def test_events_focus_filter_by_kind_and_show_the_newest_row_at_100_columns() -> None:
    hub = FakeHub([snapshot(3)])
    app = TongchouApp(hub, lang="zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await shown(pilot, app)
        hub.push(
            inventory_pb2.InventoryDelta(
                events=[
                    inventory_pb2.Event(kind="lost", subject="node-002", message="silent 2m"),
                    *(
                        inventory_pb2.Event(kind="registered", subject=f"n-{i}", message="joined")
                        for i in range(60)
                    ),
                    inventory_pb2.Event(kind="placement", subject="portal", message="newest"),
                ]
            )
        )
        await pilot.press("e")
        table = app.query_one("#event-table", FleetTable)
        await until(pilot, lambda: table.row_count == 63, "the events")
        assert app.focused is table
        await pilot.pause(0.2)
        assert any("portal" in line and "newest" in line for line in screen_text(app))
        await pilot.press("slash", *"失联")
        await until(pilot, lambda: table.row_count == 1, "the lost node only")
        await pilot.press("enter", "escape")
        await until(pilot, lambda: table.row_count == 63, "every event again")
        await pilot.press("slash", *"告警", "enter")
        await until(pilot, lambda: table.row_count == 1, "alerts only")
        await pilot.press("n")
        assert app.query_one(TabbedContent).active == "tab-nodes"


async def test_the_node_filter_takes_shown_states_and_chinese_division_names() -> None:
    hub = FakeHub([snapshot(12)])
    app = TongchouApp(hub, lang="zh", refresh_every=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        await until(pilot, lambda: bool(app.division_names), "the division names")
        table = app.query_one("#node-table", FleetTable)
        await pilot.press("slash", *"天河")
        await until(pilot, lambda: table.row_count == 3, "the Tianhe nodes")
        await pilot.press("escape", "slash", *"广州")  # a city: its districts' nodes
        await until(pilot, lambda: table.row_count == 3, "the Guangzhou nodes")
        await pilot.press("escape", "slash", *"失联")
        await until(pilot, lambda: table.row_count == 0, "no lost node")
        assert any("没有匹配“失联”的行" in line for line in screen_text(app))
        hub.push(inventory_pb2.InventoryDelta(upserted=[node(4, common_pb2.NODE_STATE_LOST)]))
        await until(pilot, lambda: table.row_count == 1, "the lost node")
        assert str(table.get_row("node-004")[1]) == "失联"


async def test_a_sort_shows_its_arrow_and_starts_at_the_top() -> None:
    app = TongchouApp(FakeHub([snapshot(60)]))
    async with app.run_test(size=(100, 30)) as pilot:
        await shown(pilot, app)
        await pilot.press("n", "pagedown", "pagedown")
        table = app.query_one("#node-table", FleetTable)
        assert table.cursor_row > 0
        await pilot.press("greater_than_sign", "greater_than_sign")  # state → cores
        assert table.cursor_row == 0 and table.scroll_offset.y == 0
        await pilot.press("exclamation_mark")
        header = next(line for line in screen_text(app) if line.startswith("Node"))
        assert "Co… ▼ " in header, header  # the arrow shows though the label is cut
