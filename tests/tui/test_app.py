"""The console under Textual's pilot, fed by a fake hub: every view and the main flows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.cells import cell_len
from textual.pilot import Pilot
from textual.widgets import DataTable, Sparkline, Static, TabbedContent, Tree

from console.tui.app import TongchouApp
from console.tui.widgets.fleet_table import FleetTable
from tests.tui.fake_hub import FakeHub, node, snapshot
from tests.tui.screen_text import screen_text
from tongchou.v1 import common_pb2, inventory_pb2, workloads_pb2

SIZE = (140, 40)


async def until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    for _ in range(100):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_overview_shows_levels_and_the_division_tree() -> None:
    app = TongchouApp(FakeHub([snapshot(30)]))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view.ready, "the snapshot")
        await pilot.pause()
        tree = app.query_one("#divisions", Tree)
        assert str(tree.root.label).startswith("30 nodes · 4 clusters")
        codes = {str(n.label).split()[0] for n in tree.root.children[0].children}
        assert {"440100", "440300", "441400"} <= codes
        assert app.query_one("#banner").display is False


async def test_filter_nodes_by_text_label_and_state_and_see_a_node_go_stale() -> None:
    hub = FakeHub([snapshot(30)])
    app = TongchouApp(hub)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view.ready, "the snapshot")
        table = app.query_one("#node-table", FleetTable)
        await until(pilot, lambda: table.row_count == 30, "30 rows")
        await pilot.press("slash")
        await pilot.press(*"kunpeng")
        await until(pilot, lambda: table.row_count == 10, "the kunpeng nodes")
        await pilot.press(*" rack=r2")
        await until(pilot, lambda: table.row_count == 0, "none: every kunpeng is in r1")
        for _ in range(len("kunpeng rack=r2")):
            await pilot.press("backspace")
        await pilot.press(*"stale")
        await until(pilot, lambda: table.row_count == 0, "no stale node yet")
        stale = inventory_pb2.InventoryDelta(upserted=[node(7, common_pb2.NODE_STATE_STALE)])
        hub.push(stale)
        await until(pilot, lambda: table.row_count == 1, "the stale node to show")
        assert str(table.get_row("node-007")[1]) == "stale"


async def test_submit_a_workload_see_its_placement_and_explain_it(tmp_path: Path) -> None:
    hub = FakeHub([snapshot(12)])
    document = tmp_path / "portal.yaml"
    document.write_text("apiVersion: tongchou.io/v1\nkind: Workload\nmetadata:\n  name: portal\n")
    app = TongchouApp(hub, refresh_every=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view.ready, "the snapshot")
        await pilot.press("s")
        await pilot.press(*str(document))
        await pilot.press("enter")
        table = app.query_one("#workload-table", DataTable)
        await until(pilot, lambda: table.row_count == 1, "the workload's row")
        assert hub.submitted and "name: portal" in hub.submitted[0]
        assert table.get_row("portal")[:3] == ["portal", "3/3", 0]
        await pilot.press("x")
        explanation = app.query_one("#explanation", Static)
        await until(pilot, lambda: "architecture" in str(explanation.render()), "explanation")
        assert "fit 12" in str(explanation.render())


async def test_switch_language_and_back() -> None:
    app = TongchouApp(FakeHub([snapshot(6)]))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view.ready, "the snapshot")
        await pilot.press("n")
        await pilot.press("l")
        tabs = app.query_one(TabbedContent)
        assert str(tabs.get_tab("tab-nodes").label) == "n 节点"
        table = app.query_one("#node-table", FleetTable)
        assert [c.label for c in table.columns][:2] == ["节点", "状态"]
        assert str(table.get_row("node-000")[1]) == "就绪"
        await pilot.press("l")
        assert str(tabs.get_tab("tab-nodes").label) == "n Nodes"


async def test_a_hub_that_is_away_shows_a_banner() -> None:
    app = TongchouApp(FakeHub([], down=True))
    async with app.run_test(size=SIZE) as pilot:
        banner = app.query_one("#banner", Static)
        await until(pilot, lambda: bool(banner.display), "the banner")
        assert "fake-hub:7470" in str(banner.render())
        assert app.query_one("#loading").display is True


async def test_clusters_view_aggregates_the_nodes() -> None:
    app = TongchouApp(FakeHub([snapshot(20)]))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view.ready, "the snapshot")
        await pilot.press("c")
        table = app.query_one("#cluster-table", DataTable)
        await until(pilot, lambda: table.row_count == 4, "four clusters")
        row = table.get_row("cluster-440106")
        assert row[:3] == ["cluster-440106", "site-440106", "440106 天河区"]
        assert row[6] == "5"  # nodes 1, 5, 9, 13, 17 are ready there


async def test_help_screen_opens_and_closes() -> None:
    app = TongchouApp(FakeHub([snapshot(3)]))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert any("filter nodes" in line for line in screen_text(app))
        await pilot.press("escape")
        assert app.query_one("#tabs") is not None


async def test_run_a_plan_shows_progress_and_exports_json(tmp_path: Path) -> None:
    folder = tmp_path / "planning"
    folder.mkdir()
    (folder / "demands.yaml").write_text("kind: Demand\n", encoding="utf-8")
    hub = FakeHub([snapshot(3)])
    app = TongchouApp(hub, export_dir=tmp_path / "exports")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view.ready, "the snapshot")
        await pilot.press("r")
        await pilot.press(*str(folder))
        await pilot.press("enter")
        result = app.query_one("#plan-result", Static)
        await until(pilot, lambda: "94 demands" in str(result.render()), "the plan")
        assert hub.planned == ["kind: Demand\n"]
        await pilot.press("j")
        await until(pilot, lambda: bool(exported(tmp_path / "exports")), "the export")
    assert exported(tmp_path / "exports") == ['{"kind": "Plan", "savingsCny": 1}\n']


def exported(folder: Path) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in folder.glob("plan-*.json")]


async def test_open_a_node_and_watch_its_sparkline_grow() -> None:
    hub = FakeHub([snapshot(5)])
    app = TongchouApp(hub)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view.ready, "the snapshot")
        await pilot.press("n")
        table = app.query_one("#node-table", FleetTable)
        await until(pilot, lambda: table.row_count == 5, "five rows")
        table.focus()
        await pilot.press("enter")
        facts = app.query_one("#node-facts", Static)
        await until(pilot, lambda: "node-000" in str(facts.render()), "the detail")
        assert "64 cores" in str(facts.render())
        again = node(0)
        again.last_sequence = 2
        again.usage.cpu_ratio = 0.9
        hub.push(inventory_pb2.InventoryDelta(upserted=[again]))
        sparkline = app.query_one("#node-cpu", Sparkline)
        await until(pilot, lambda: len(list(sparkline.data or [])) == 2, "a second point")
        assert list(sparkline.data or [])[-1] == 0.9


async def test_sites_view_lists_the_hubs_sites_with_division_names() -> None:
    app = TongchouApp(FakeHub([snapshot(20)]))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view.ready, "the snapshot")
        await pilot.press("t")
        table = app.query_one("#site-table", DataTable)
        await until(pilot, lambda: table.row_count == 4, "four sites")
        row = table.get_row("site-440106")
        assert row[:6] == ["site-440106", "440106 天河区", "on-prem", "—", 3, "cluster-440106"]
        assert str(row[8]).endswith("30%") and str(row[9]).endswith("50%")  # used, allocated
        assert table.get_row("site-440000")[3] == "guangdong"


async def test_overview_tree_names_divisions_in_chinese_aligned() -> None:
    app = TongchouApp(FakeHub([snapshot(30)]), refresh_every=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: bool(app.division_names), "the division names")
        tree = app.query_one("#divisions", Tree)
        await until(pilot, lambda: "广东省" in str(tree.root.children[0].label), "named tree")
        cities = [str(n.label) for n in tree.root.children[0].children]
        assert any(label.startswith("440100  广州市      ") for label in cities), cities
        # the counts after the names start in the same terminal column
        columns = {cell_len(label.split("  ")[0] + "  " + label.split("  ")[1]) for label in cities}
        assert len(columns) == 1, cities


async def test_policies_view_and_checking_a_policy_file(tmp_path: Path) -> None:
    hub = FakeHub([snapshot(8)])
    good = tmp_path / "arm-only.yaml"
    good.write_text("kind: PlacementPolicy # cluster.archs\n", encoding="utf-8")
    bad = tmp_path / "typo.yaml"
    bad.write_text("kind: PlacementPolicy # cluster.arches\n", encoding="utf-8")
    app = TongchouApp(hub)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view.ready, "the snapshot")
        await pilot.press("y")
        table = app.query_one("#policy-table", DataTable)
        await until(pilot, lambda: table.row_count == 2, "two policies")
        assert table.get_row("architecture")[:7] == [
            "architecture", "require", "1", "2/2", "0.5 / 1", "cluster-441422",
            "architecture.yaml:10",
        ]  # fmt: skip
        assert table.get_row("east-west")[4] == "—"  # a preference removes nothing
        header = str(app.query_one("#policy-header", Static).render())
        assert "2 policies loaded" in header and "4 clusters" in header
        result = app.query_one("#policy-check", Static)
        await pilot.press("k", *str(bad), "enter")
        await until(pilot, lambda: "arches" in str(result.render()), "the error")
        assert "submitted policies:5:22" in str(result.render())
        await pilot.press("k", *str(good), "enter")
        await until(pilot, lambda: "arm-only" in str(result.render()), "the check")
        assert "removes 3.0 of 4 clusters on average, at most 3" in str(result.render())
        assert hub.checked == [bad.read_text(), good.read_text()]


async def test_sort_and_page_the_node_table() -> None:
    app = TongchouApp(FakeHub([snapshot(120)]))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view.ready, "the snapshot")
        await pilot.press("n")
        table = app.query_one("#node-table", FleetTable)
        await until(pilot, lambda: table.row_count == 120, "120 rows")
        assert table.keys[:2] == ["node-000", "node-001"]
        await pilot.press("pagedown")
        assert table.cursor_row == table.size.height - 1
        assert table.scroll_offset.y > 0
        for _ in range(3):  # node → state → cores → cpu_used
            await pilot.press("greater_than_sign")
        assert table.columns[table.sort_column].key == "cpu_used"
        ratios = [app.view.nodes[k].usage.cpu_ratio for k in table.keys]
        assert ratios == sorted(ratios)
        await pilot.press("exclamation_mark")
        ratios = [app.view.nodes[k].usage.cpu_ratio for k in table.keys]
        assert ratios == sorted(ratios, reverse=True)
        await pilot.press("end")
        assert table.cursor_key == table.keys[-1]


async def test_command_palette_switches_views() -> None:
    app = TongchouApp(FakeHub([snapshot(4)]))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view.ready, "the snapshot")
        await pilot.press("ctrl+p")
        await pilot.press(*"show Policies")
        await pilot.pause(0.5)
        await pilot.press("enter")
        tabs = app.query_one(TabbedContent)
        await until(pilot, lambda: tabs.active == "tab-policies", "the policies view")


async def test_events_keep_the_newest_and_follow_them() -> None:
    hub = FakeHub([snapshot(3)])
    app = TongchouApp(hub)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view.ready, "the snapshot")
        await pilot.press("e")
        table = app.query_one("#event-table", FleetTable)
        await until(pilot, lambda: table.row_count == 1, "the registration")
        placed = inventory_pb2.Event(kind="placement", subject="portal", message="3/3 placed")
        burst = inventory_pb2.InventoryDelta(
            events=[placed]
            + [
                inventory_pb2.Event(kind="registered", subject=f"node-{i:04d}", message="joined")
                for i in range(2000)
            ]
        )
        hub.push(burst)
        # a province registering keeps its newest 100 rows; the placement stays
        await until(pilot, lambda: table.row_count == 101, "the newest registrations")
        assert [str(c) for c in table.get_row(table.keys[0])[1:3]] == ["placement", "portal"]
        assert [str(c) for c in table.get_row(table.keys[-1])[1:3]] == ["registered", "node-1999"]
        assert table.cursor_key == table.keys[-1]


async def test_overview_shows_the_newest_alerts() -> None:
    hub = FakeHub([snapshot(6)])
    app = TongchouApp(hub)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view.ready, "the snapshot")
        alerts = app.query_one("#alerts", Static)
        await until(pilot, lambda: "none" in str(alerts.render()), "no alerts yet")
        hub.push(
            inventory_pb2.InventoryDelta(
                upserted=[node(3, common_pb2.NODE_STATE_LOST)],
                events=[
                    inventory_pb2.Event(kind="ready", subject="node-001", message="reporting"),
                    inventory_pb2.Event(kind="lost", subject="node-003", message="silent 2m"),
                    inventory_pb2.Event(
                        kind="placement", subject="portal", message="1/3 placed; 2 pending: fit"
                    ),
                ],
            )
        )
        await until(pilot, lambda: "node-003" in str(alerts.render()), "the lost node")
        shown = str(alerts.render())
        assert shown.index("portal") < shown.index("node-003")  # newest first
        assert "node-001" not in shown
        # a workload pending now leads, whenever its placement event was
        hub.statuses.append(
            workloads_pb2.WorkloadStatus(name="video", replicas=3, pending=2, reason="no room")
        )
        app.refresh_every = 0.1
        app.poll_workloads()
        await until(pilot, lambda: "video  2/3: no room" in str(alerts.render()), "pending")
        shown = str(alerts.render())
        assert shown.index("video") < shown.index("portal")
