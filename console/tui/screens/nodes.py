"""Nodes: every node in a table, filtered with `/` by text, label=value or state."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import DataTable, Input
from textual.widgets.data_table import ColumnKey

from console.client.fleet_view import FleetView
from console.tui.format import STATE_NAMES, size, state_text
from console.tui.i18n import STATES, text
from console.tui.widgets.node_detail import NodeDetail
from tongchou.v1 import inventory_pb2

FILTER_DELAY = 0.15
"""Seconds of quiet typing before the table is refiltered."""
COLUMNS = ("node", "state", "division", "cluster", "arch", "chip", "cores", "cpu_used", "memory")


def matches(node: inventory_pb2.Node, query: str) -> bool:
    """A filter word matches a state, a label (key=value), or any part of the identity."""
    ident = node.identity
    for word in query.lower().split():
        if "=" in word:
            key, _, value = word.partition("=")
            if ident.labels.get(key, "").lower() != value:
                return False
            continue
        if word in ("ready", "stale", "lost"):
            if STATE_NAMES.get(node.state) != word:
                return False
            continue
        haystack = " ".join(
            (
                ident.node,
                ident.division,
                ident.site,
                ident.cluster,
                ident.provider,
                ident.arch,
                ident.chip,
            )
        ).lower()
        if word not in haystack:
            return False
    return True


class Nodes(Vertical):
    """The node table; rows change in place as reports arrive."""

    def __init__(self, lang: str) -> None:
        super().__init__(id="nodes")
        self.lang = lang
        self.query_text = ""
        self._view: FleetView | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder=text(self.lang, "filter"), id="node-filter")
        yield DataTable(id="node-table", cursor_type="row", zebra_stripes=True)
        yield NodeDetail(id="node-detail")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key in COLUMNS:
            table.add_column(text(self.lang, key), key=key)
        self.query_one(Input).display = False
        self.query_one(NodeDetail).display = False
        self._shown = ""
        self._pending: Timer | None = None

    @on(DataTable.RowSelected, "#node-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        """Enter on a row opens (or closes) its detail, which then follows its reports."""
        name = str(event.row_key.value)
        detail = self.query_one(NodeDetail)
        if self._shown == name and detail.display:
            detail.display = False
            self._shown = ""
            return
        self._shown = name
        detail.display = True
        self._show_detail()

    def _show_detail(self) -> None:
        view = self._view
        if view is None or not self._shown or self._shown not in view.nodes:
            return
        self.query_one(NodeDetail).show(view.nodes[self._shown], view.history.get(self._shown, ()))

    def focus_filter(self) -> None:
        box = self.query_one(Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#node-filter")
    def _filter(self, event: Input.Changed) -> None:
        """Refilters once typing pauses, so keystrokes stay quick on a large fleet."""
        self.query_text = event.value.strip()
        if self._pending is not None:
            self._pending.stop()
        self._pending = self.set_timer(FILTER_DELAY, self._refilter)

    def _refilter(self) -> None:
        self._pending = None
        if self._view is not None:
            self.rebuild(self._view)

    @on(Input.Submitted, "#node-filter")
    def _done(self, event: Input.Submitted) -> None:
        self.query_one(DataTable).focus()

    def _row(self, node: inventory_pb2.Node) -> tuple[object, ...]:
        state = STATE_NAMES.get(node.state, "lost")
        cap, use = node.capacity, node.usage
        return (
            node.identity.node, state_text(node.state, STATES[self.lang][state]),
            node.identity.division, node.identity.cluster, node.identity.arch,
            node.identity.chip, cap.cpu_logical, f"{use.cpu_ratio:5.1%}",
            f"{size(use.memory_used_bytes)}/{size(cap.memory_bytes)}",
        )  # fmt: skip

    def rebuild(self, view: FleetView) -> None:
        """Fills the table anew (after a snapshot, a new filter or a new language)."""
        self._view = view
        table = self.query_one(DataTable)
        for key in COLUMNS:
            table.columns[ColumnKey(key)].label = Text(text(self.lang, key))
        self.query_one(Input).placeholder = text(self.lang, "filter")
        table.clear()
        for name, node in sorted(view.nodes.items()):
            if matches(node, self.query_text):
                table.add_row(*self._row(node), key=name)

    def update(self, view: FleetView, changed: set[str]) -> None:
        """Updates the rows of `changed` nodes in place, adding new ones that match the filter."""
        self._view = view
        table = self.query_one(DataTable)
        if len(changed) > 2000 or not table.row_count:
            self.rebuild(view)
            return
        if self._shown in changed:
            self._show_detail()
        for name in sorted(changed):
            node = view.nodes.get(name)
            if node is None or not matches(node, self.query_text):
                continue
            if name not in table.rows:
                table.add_row(*self._row(node), key=name)
                continue
            for column, value in zip(COLUMNS, self._row(node), strict=True):
                table.update_cell(name, column, value)
