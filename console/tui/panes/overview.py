"""Overview: the fleet by level (nodes by state, CPU and memory bars) and the division tree."""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter
from functools import lru_cache
from itertools import islice

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from console.client.fleet_view import FleetView
from console.tui.format import STATE_STYLES, bar, size
from console.tui.i18n import KINDS, LEVELS, reason_text, text
from tongchou import levels, states
from tongchou.divisions import ancestors
from tongchou.v1 import inventory_pb2, workloads_pb2


@lru_cache(maxsize=65536)
def _ancestors(code: str) -> tuple[str, ...]:
    return ancestors(code)


ALERTS = 5
"""Newest alerts shown above the division tree."""
ALERT_KINDS = frozenset({"stale", "lost", "failover", "unavailable"})


def is_alert(event: inventory_pb2.Event) -> bool:
    return event.kind in ALERT_KINDS or (event.kind == "placement" and "pending" in event.message)


NAME_CELLS = 12
"""Terminal cells a division name takes in the tree (a Chinese character takes two)."""


def count(n: int, state: str) -> Text:
    """A stale or lost count, coloured when there are any."""
    return Text(f"{n:,}", style=STATE_STYLES[state] if n else "")


def padded(name: str, cells: int) -> str:
    """`name` padded with spaces to `cells` terminal cells, so the counts after it align."""
    return name + " " * max(0, cells - cell_len(name))


class Overview(Vertical):
    """Totals per level, and per division in its tree (province → city → county → township)."""

    def __init__(self, lang: str) -> None:
        super().__init__(id="overview")
        self.lang = lang
        self._tree_nodes: dict[str, TreeNode[None]] = {}
        self.names: dict[str, str] = {}  # division code → name, from the hub
        self.workloads: list[workloads_pb2.WorkloadStatus] = []  # as last polled
        self._children: dict[int, list[str]] = {}  # tree node id → its children's codes

    def compose(self) -> ComposeResult:
        yield Static(id="levels")
        yield Static(id="alerts")
        yield Tree("—", id="divisions")

    def refresh_view(self, view: FleetView) -> None:
        summary = view.summary
        table = Table(expand=True, box=None, header_style="bold")
        for key in ("level", "ready", "stale", "lost", "cpu", "memory"):
            table.add_column(
                text(self.lang, key),
                justify="right" if key in ("ready", "stale", "lost") else "left",
            )
        rows = [(levels.name(lv.level), lv.totals) for lv in summary.levels]
        rows.append(("total", summary.totals))
        for name, t in rows:
            label = LEVELS[self.lang].get(name, text(self.lang, "total"))
            table.add_row(
                label, f"{t.nodes_ready:,}", count(t.nodes_stale, "stale"),
                count(t.nodes_lost, "lost"),
                bar(t.cpu_used_cores, t.cpu_cores).append(
                    "  " + text(self.lang, "of_total", total=f"{t.cpu_cores:,.0f} CPU")
                ),
                bar(t.memory_used_bytes, t.memory_bytes).append(
                    "  " + text(self.lang, "of_total", total=size(t.memory_bytes))
                ),
            )  # fmt: skip
        self.query_one("#levels", Static).update(table)
        self.refresh_alerts(view)
        self._refresh_tree(view)

    def refresh_alerts(self, view: FleetView) -> None:
        """What an operator must act on: workloads with replicas pending now, then the
        newest events of nodes gone stale or lost, failovers and replicas left pending."""
        pending = [w for w in self.workloads if w.pending]
        alerts = (e for e in reversed(view.events) if is_alert(e))  # newest first, lazily
        newest = list(islice(alerts, max(0, ALERTS - len(pending))))
        lines = Text(
            text(self.lang, "alerts") + ": ", style="bold", no_wrap=True, overflow="ellipsis"
        )
        if not newest and not pending:
            lines.append(text(self.lang, "no_alerts"), style="green")
        kinds = KINDS.get(self.lang, {})
        for w in pending[:ALERTS]:
            lines.append(f"\n  {padded(text(self.lang, 'now'), 8)} ")
            lines.append(padded(text(self.lang, "pending"), 9), style="yellow")
            lines.append(f" {w.name}  {w.pending}/{w.replicas}: {reason_text(self.lang, w.reason)}")
        if len(pending) > ALERTS:
            lines.append("\n  " + text(self.lang, "more_pending", n=len(pending) - ALERTS))
        for event in newest:
            at = dt.datetime.fromtimestamp(event.at.ToSeconds()).strftime("%H:%M:%S")
            style = "bold red" if event.kind in ("lost", "failover") else "yellow"
            lines.append(f"\n  {at} ")
            lines.append(padded(kinds.get(event.kind, event.kind), 9), style=style)
            lines.append(f" {event.subject}  {event.message}")
        self.query_one("#alerts", Static).update(lines)

    def _refresh_tree(self, view: FleetView) -> None:
        # Count by (division, state) first: a fleet has many nodes but few divisions.
        direct = Counter((m.identity.division, m.state) for m in view.nodes.values())
        counts: dict[str, Counter[str]] = {}
        for (code, wire_state), n in direct.items():
            state = states.name(wire_state) or "lost"
            for scope in (code, *_ancestors(code)):
                if scope != "000000":
                    counts.setdefault(scope, Counter())[state] += n
        tree: Tree[None] = self.query_one("#divisions", Tree)
        tree.root.set_label(text(self.lang, "fleet", nodes=len(view.nodes),
                                 clusters=view.summary.clusters,
                                 rate=view.summary.reports_per_second))  # fmt: skip
        tree.root.expand()
        for code in sorted(counts, key=lambda c: (len(_ancestors(c)), c)):
            parent_code = next((a for a in _ancestors(code) if a in self._tree_nodes), None)
            c = counts[code]
            label = f"{code}  {padded(self.names.get(code, ''), NAME_CELLS)}  {c['ready']} " + text(
                self.lang, "ready"
            )
            if c["stale"]:
                label += f" · {c['stale']} {text(self.lang, 'stale')}"
            if c["lost"]:
                label += f" · {c['lost']} {text(self.lang, 'lost')}"
            existing = self._tree_nodes.get(code)
            if existing is None:
                parent = (self._tree_nodes.get(parent_code) if parent_code else None) or tree.root
                province = len(code) == 6 and code.endswith("0000")
                siblings = self._children.setdefault(parent.id, [])
                at = bisect.bisect(siblings, code)
                before = self._tree_nodes[siblings[at]] if at < len(siblings) else None
                siblings.insert(at, code)  # divisions stay in code order as they appear
                self._tree_nodes[code] = parent.add(label, before=before, expand=province)
            else:
                existing.set_label(label)
