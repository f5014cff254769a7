"""Nodes: every node in a table, filtered with `/` by text, label=value or state."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Input, Static

from console.client.fleet_view import FleetView
from console.tui.drill import Scope
from console.tui.format import size, state_text
from console.tui.i18n import STATE_WORDS, STATES, text
from console.tui.widgets.filter_box import FilterBox
from console.tui.widgets.fleet_table import Cell, Column, FleetTable
from console.tui.widgets.node_detail import NodeDetail
from tongchou import states
from tongchou.divisions import ancestors
from tongchou.v1 import inventory_pb2

FILTER_DELAY = 0.15
"""Seconds of quiet typing before the table is refiltered."""
COLUMNS: tuple[tuple[str, int, bool], ...] = (
    ("node", 24, False), ("state", 6, False), ("cores", 5, True), ("cpu_used", 8, True),
    ("memory", 15, True), ("division", 17, False), ("cluster", 22, False), ("arch", 11, False),
    ("chip", 16, False),
)  # fmt: skip
"""Each column's key, width and whether it is numeric (right-aligned); what an operator
reads first (state and load) comes first, so it stays on a 100-column terminal."""


def matches(node: inventory_pb2.Node, query: str, names: Mapping[str, str] | None = None) -> bool:
    """A filter word matches a state (in either language), a label (key=value), or any part
    of the identity, the division's name and its ancestors' names included (`天河`, `广州`)."""
    ident = node.identity
    for word in query.lower().split():
        if "=" in word:
            key, _, value = word.partition("=")
            if ident.labels.get(key, "").lower() != value:
                return False
            continue
        if word in STATE_WORDS:
            if states.name(node.state) != STATE_WORDS[word]:
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
        if word in haystack:
            continue
        if names and any(
            word in names.get(code, "") for code in (ident.division, *_up(ident.division))
        ):
            continue
        return False
    return True


@lru_cache(maxsize=65536)
def _up(code: str) -> tuple[str, ...]:
    return ancestors(code)


class Nodes(Vertical):
    """The node table; rows change in place as reports arrive."""

    def __init__(self, lang: str) -> None:
        super().__init__(id="nodes")
        self.lang = lang
        self.query_text = ""
        self._view: FleetView | None = None
        self._shown = ""
        self._pending: Timer | None = None
        self._matching: set[str] = set()
        self.names: dict[str, str] = {}  # division code → name, from the hub
        self.scope: Scope | None = None  # a division, site or cluster drilled into

    def compose(self) -> ComposeResult:
        yield Static(id="node-trail")
        yield FilterBox(
            table="#node-table", placeholder=text(self.lang, "filter"), id="node-filter"
        )
        columns = [
            Column(key, text(self.lang, key), width, numeric) for key, width, numeric in COLUMNS
        ]
        yield FleetTable(columns, self._cells, sort_value=self._sort_value, id="node-table")
        yield Static(id="node-count")
        yield NodeDetail(id="node-detail")

    def on_mount(self) -> None:
        self.query_one(Input).display = False
        self.query_one("#node-trail").display = False
        self.query_one(NodeDetail).display = False

    @property
    def table(self) -> FleetTable:
        return self.query_one("#node-table", FleetTable)

    @on(FleetTable.Selected, "#node-table")
    def _open(self, event: FleetTable.Selected) -> None:
        """Enter on a row opens (or closes) its detail, which then follows its reports."""
        detail = self.query_one(NodeDetail)
        if self._shown == event.key and detail.display:
            detail.display = False
            self._shown = ""
            return
        self._shown = event.key
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
        self.screen.set_focus(box)  # now: keys typed next go to the box

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

    def clear_filter(self) -> None:
        box = self.query_one(Input)
        if box.value or self.query_text:
            box.value = ""
            self.query_text = ""
            self._refilter()

    def back(self) -> bool:
        """Escape on the table: closes the node's detail, else clears the filter; False when
        there was neither (the app then goes back a drill-down step)."""
        detail = self.query_one(NodeDetail)
        if detail.display:
            detail.display = False
            self._shown = ""
            return True
        box = self.query_one(Input)
        if box.display or self.query_text:
            self.clear_filter()
            box.display = False
            return True
        return False

    def set_scope(self, scope: Scope | None, crumb: str = "") -> None:
        """Shows only the nodes under `scope`, with the breadcrumb above them."""
        changed = scope != self.scope
        self.scope = scope
        trail = self.query_one("#node-trail", Static)
        trail.display = scope is not None
        trail.update(crumb)
        if changed and self._view is not None:
            self.rebuild(self._view)

    def _wanted(self, node: inventory_pb2.Node) -> bool:
        scope = self.scope
        return (scope is None or scope.holds(node)) and matches(node, self.query_text, self.names)

    def _cells(self, name: str) -> tuple[Cell, ...]:
        node = self._view.nodes.get(name) if self._view is not None else None
        if node is None:
            return (name,)
        state = states.name(node.state) or "lost"
        cap, use = node.capacity, node.usage
        code = node.identity.division
        return (
            node.identity.node, state_text(node.state, STATES[self.lang][state]),
            cap.cpu_logical, f"{use.cpu_ratio:5.1%}",
            f"{size(use.memory_used_bytes)}/{size(cap.memory_bytes)}",
            f"{code} {self.names.get(code, '')}".rstrip(), node.identity.cluster,
            node.identity.arch, node.identity.chip,
        )  # fmt: skip

    def _sort_value(self, name: str, column: str) -> object:
        node = self._view.nodes.get(name) if self._view is not None else None
        if node is None:
            return 0
        ident = node.identity
        values: dict[str, object] = {
            "node": ident.node, "state": node.state, "division": ident.division,
            "cluster": ident.cluster, "arch": ident.arch, "chip": ident.chip,
            "cores": node.capacity.cpu_logical, "cpu_used": node.usage.cpu_ratio,
            "memory": node.usage.memory_used_bytes,
        }  # fmt: skip
        return values[column]

    def rebuild(self, view: FleetView) -> None:
        """Refilters and reorders the rows (after a snapshot, a new filter or a new language)."""
        self._view = view
        table = self.table
        table.relabel({key: text(self.lang, key) for key, _, _ in COLUMNS})
        self.query_one(Input).placeholder = text(self.lang, "filter")
        self._matching = {n for n, node in view.nodes.items() if self._wanted(node)}
        table.set_keys(self._matching)
        self._count()

    def _count(self) -> None:
        """`N of M rows`, or what to do when the filter matches nothing."""
        total = len(self._view.nodes) if self._view is not None else 0
        shown = len(self._matching)
        self.query_one("#node-count", Static).update(
            text(self.lang, "no_match", query=self.query_text)
            if total and not shown
            else text(self.lang, "rows_shown", shown=shown, total=total)
        )

    def update(self, view: FleetView, changed: set[str]) -> None:
        """Redraws the rows of `changed` nodes; reorders only when the rows shown must change."""
        self._view = view
        table = self.table
        if self._shown in changed:
            self._show_detail()
        if not table.row_count or len(changed) > len(view.nodes) // 2:
            self.rebuild(view)
            return
        matching = self._matching
        reorder = table.sort_column != 0 or table.sort_reverse
        for name in changed:
            node = view.nodes.get(name)
            now = node is not None and self._wanted(node)
            if now != (name in matching):
                reorder = True
                if now:
                    matching.add(name)
                else:
                    matching.discard(name)
        if reorder:
            table.set_keys(matching)
            self._count()
        else:
            table.changed(changed)
