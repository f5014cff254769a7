"""Drill-down: Enter on a division, cluster or site opens its nodes with a breadcrumb; Escape
goes back to where it was opened."""

from __future__ import annotations

from textual.widgets import DataTable, Static, TabbedContent, Tree

from console.tui.app import TongchouApp
from console.tui.widgets.fleet_table import FleetTable
from tests.tui.fake_hub import FakeHub, snapshot
from tests.tui.test_app import until
from tests.tui.test_keys import shown
from tongchou.v1 import workloads_pb2

SIZE = (140, 40)


async def test_open_a_cluster_then_go_back() -> None:
    hub = FakeHub([snapshot(24)])
    hub.statuses.append(
        workloads_pb2.WorkloadStatus(
            name="portal", replicas=3,
            placed=[workloads_pb2.ClusterReplicas(cluster="cluster-440000", replicas=3)],
        )
    )  # fmt: skip
    app = TongchouApp(hub, refresh_every=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        await pilot.press("c")
        clusters = app.query_one("#cluster-table", DataTable)
        await until(pilot, lambda: clusters.row_count == 4, "the clusters")
        await pilot.press("enter")
        tabs = app.query_one(TabbedContent)
        nodes = app.query_one("#node-table", FleetTable)
        await until(pilot, lambda: tabs.active == "tab-nodes" and nodes.row_count == 6, "six")
        crumb = str(app.query_one("#node-trail", Static).render())
        assert crumb.startswith("Clusters › cluster-440000 · 6 nodes · workloads here: portal×3")
        assert app.focused is nodes
        await pilot.press("escape")
        assert tabs.active == "tab-clusters"
        await until(pilot, lambda: nodes.row_count == 24, "every node again")
        assert app.query_one("#node-trail").display is False


async def test_open_a_city_from_the_overview_tree() -> None:
    app = TongchouApp(FakeHub([snapshot(24)]), refresh_every=0.1, lang="zh")
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        await until(pilot, lambda: bool(app.division_names), "the names")
        tree = app.query_one("#divisions", Tree)
        city = next(n for n in tree.root.children[0].children if str(n.label).startswith("440100"))
        tree.move_cursor(city)
        await pilot.press("enter")
        nodes = app.query_one("#node-table", FleetTable)
        await until(pilot, lambda: nodes.row_count == 6, "the Guangzhou nodes")
        crumb = str(app.query_one("#node-trail", Static).render())
        assert crumb.startswith("总览 › 440100 广州市 · 6 个节点")
        await pilot.press("slash", *"hygon", "enter")  # a filter inside the scope
        await until(pilot, lambda: nodes.row_count == 2, "the hygon nodes of Guangzhou")
        await pilot.press("escape")  # first the filter goes …
        await until(pilot, lambda: nodes.row_count == 6, "the city again")
        await pilot.press("escape")  # … then the step
        assert app.query_one(TabbedContent).active == "tab-overview"
