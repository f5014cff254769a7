"""Clusters: every cluster with its site, division, provider, 等保 level, archs and load."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable

from console.client.fleet_view import FleetView
from console.tui.format import bar
from console.tui.widgets.columns import label_columns
from tongchou.states import name as state_name

COLUMNS = ("cluster", "site", "division", "provider", "mlps", "archs", "nodes", "cores", "cpu")


@dataclass(slots=True)
class _Row:
    site: str = ""
    division: str = ""
    provider: str = ""
    mlps: int = 0
    archs: set[str] = field(default_factory=set)
    states: Counter[str] = field(default_factory=Counter)
    cores: float = 0.0
    used: float = 0.0


class Clusters(Vertical):
    """Aggregated from the nodes the console already has: no extra call to the hub."""

    def __init__(self, lang: str) -> None:
        super().__init__(id="clusters")
        self.lang = lang
        self.names: dict[str, str] = {}  # division code → name, from the hub

    def compose(self) -> ComposeResult:
        yield DataTable(id="cluster-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.relabel()

    def relabel(self) -> None:
        label_columns(self.query_one(DataTable), self.lang, COLUMNS)

    def refresh_view(self, view: FleetView) -> None:
        rows: dict[str, _Row] = {}
        for node in view.nodes.values():
            ident = node.identity
            row = rows.setdefault(ident.cluster, _Row())
            row.site, row.division, row.provider = ident.site, ident.division, ident.provider
            row.mlps = ident.mlps_level
            row.archs.add(ident.arch)
            row.states[state_name(node.state) or "lost"] += 1
            row.cores += node.capacity.cpu_logical
            if state_name(node.state) != "lost":
                row.used += node.capacity.cpu_logical * node.usage.cpu_ratio
        table = self.query_one(DataTable)
        table.clear()
        for name in sorted(rows):
            r = rows[name]
            states = f"{r.states['ready']}"
            if r.states["stale"] or r.states["lost"]:
                states += f" ({r.states['stale']}/{r.states['lost']})"
            division = f"{r.division} {self.names.get(r.division, '')}".rstrip()
            table.add_row(
                name, r.site, division, r.provider, r.mlps, ",".join(sorted(r.archs)), states,
                f"{r.cores:,.0f}", bar(r.used, r.cores, width=8), key=name,
            )  # fmt: skip
