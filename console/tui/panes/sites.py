"""Sites: every data center or cloud region with its division, provider, 东数西算 hub,
clusters, nodes, and CPU used and allocated, as the hub lists them."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable

from console.tui.format import bar
from console.tui.widgets.columns import label_columns
from tongchou.v1 import inventory_pb2

COLUMNS = (
    "site", "division", "provider", "compute_hub", "mlps", "clusters", "nodes", "cores",
    "cpu", "allocated", "pue", "slots",
)  # fmt: skip


class Sites(Vertical):
    """Refreshed from the hub's ListSites while it is on screen."""

    def __init__(self, lang: str) -> None:
        super().__init__(id="sites")
        self.lang = lang
        self.names: dict[str, str] = {}  # division code → name

    def compose(self) -> ComposeResult:
        yield DataTable(id="site-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.relabel()

    def relabel(self) -> None:
        label_columns(self.query_one(DataTable), self.lang, COLUMNS)

    def show(self, sites: list[inventory_pb2.Site]) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for s in sites:
            t, a = s.totals, s.allocation
            nodes = f"{t.nodes_ready}"
            if t.nodes_stale or t.nodes_lost:
                nodes += f" ({t.nodes_stale}/{t.nodes_lost})"
            division = f"{s.division} {self.names.get(s.division, '')}".rstrip()
            table.add_row(
                s.name, division, s.provider, s.compute_hub or "—", s.mlps_level or "—",
                ",".join(s.clusters), nodes, f"{t.cpu_cores:,.0f}",
                bar(t.cpu_used_cores, t.cpu_cores, width=8),
                bar(a.cpu_allocated_cores, t.cpu_cores, width=8),
                f"{s.pue:.2f}" if s.pue else "—", s.free_server_slots, key=s.name,
            )  # fmt: skip
        if sites:
            table.move_cursor(row=min(keep, len(sites) - 1))
