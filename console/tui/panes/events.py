"""Events: node state changes, registrations and placements, the newest at the bottom;
`/` filters them by kind (in either language), subject or text, or `alerts` for alerts only."""

from __future__ import annotations

import datetime as dt
from collections import deque

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from console.tui.i18n import KINDS, text
from console.tui.widgets.filter_box import FilterBox
from console.tui.widgets.fleet_table import Cell, Column, FleetTable
from tongchou.v1 import inventory_pb2

KEPT = 500
"""Events kept of the kinds that matter (placements, state changes, failovers)."""
KEPT_ROUTINE = 100
"""Events kept of the routine kinds, so a province registering does not push the rest out."""
ROUTINE = frozenset({"registered", "ready"})
ALERTS = frozenset({"stale", "lost", "failover", "unavailable"})
COLUMNS = (("time", 8), ("kind", 12), ("subject", 28), ("message", 40))
STYLES = {"lost": "bold red", "failover": "bold red", "stale": "yellow", "unavailable": "yellow",
          "placement": "cyan", "recovered": "green"}  # fmt: skip


class Events(Vertical):
    """The newest events by kind; a burst (a whole province registering) costs one redraw."""

    def __init__(self, lang: str) -> None:
        super().__init__(id="events")
        self.lang = lang
        self._count = 0
        self._routine: deque[str] = deque()
        self._others: deque[str] = deque()
        self._events: dict[str, inventory_pb2.Event] = {}
        self.query_text = ""
        self._elsewhere = (0, 0)  # node changes and events outside the scope: counts only

    def compose(self) -> ComposeResult:
        yield FilterBox(
            table="#event-table", placeholder=text(self.lang, "event_filter"), id="event-filter"
        )
        columns = [
            Column(key, text(self.lang, key), width, flex=key == "message")
            for key, width in COLUMNS
        ]
        yield FleetTable(columns, self._cells, id="event-table")
        yield Static(id="event-count")

    def on_mount(self) -> None:
        self.query_one(Input).display = False

    @property
    def table(self) -> FleetTable:
        return self.query_one(FleetTable)

    def relabel(self) -> None:
        self.table.relabel({key: text(self.lang, key) for key, _ in COLUMNS})
        self.query_one(Input).placeholder = text(self.lang, "event_filter")
        self._show()

    def _cells(self, key: str) -> tuple[Cell, ...]:
        event = self._events.get(key)
        if event is None:
            return ()
        at = dt.datetime.fromtimestamp(event.at.ToSeconds()).strftime("%H:%M:%S")
        kind = Text(KINDS.get(self.lang, {}).get(event.kind, event.kind))
        kind.stylize(STYLES.get(event.kind, ""))
        return (at, kind, event.subject, event.message)

    def add(self, events: list[inventory_pb2.Event]) -> None:
        if not events:
            return
        for event in events:
            self._count += 1
            key = f"{self._count:012d}"
            self._events[key] = event
            ring, bound = (
                (self._routine, KEPT_ROUTINE) if event.kind in ROUTINE else (self._others, KEPT)
            )
            ring.append(key)
            while len(ring) > bound:
                self._events.pop(ring.popleft(), None)
        self._show()

    def elsewhere(self, nodes: int, events: int) -> None:
        """What the hub counted outside the caller's scope and did not send."""
        if (nodes, events) != self._elsewhere:
            self._elsewhere = (nodes, events)
            self._show()

    def _matches(self, event: inventory_pb2.Event) -> bool:
        for word in self.query_text.lower().split():
            if word in ("alerts", text("zh", "alert_word")):
                if event.kind not in ALERTS:
                    return False
                continue
            names = (event.kind, *(k.get(event.kind, "") for k in KINDS.values()))
            haystack = " ".join((*names, event.subject, event.message)).lower()
            if word not in haystack:
                return False
        return True

    def _show(self) -> None:
        table = self.table
        keys = [k for k, e in self._events.items() if self._matches(e)]
        following = table.cursor_row >= table.row_count - 1
        table.set_keys(keys)
        if following:  # stay on the newest, as `tail -f` does
            table.action_jump(-1)
        shown = (
            text(self.lang, "rows_shown", shown=len(keys), total=len(self._events))
            if keys or not self._events
            else text(self.lang, "no_match", query=self.query_text)
        )
        nodes, events = self._elsewhere
        if nodes or events:
            shown += "\n" + text(self.lang, "elsewhere", nodes=nodes, events=events)
        self.query_one("#event-count", Static).update(shown)

    def focus_filter(self) -> None:
        box = self.query_one(Input)
        box.display = True
        self.screen.set_focus(box)  # now: keys typed next go to the box

    def clear_filter(self) -> None:
        box = self.query_one(Input)
        box.display = False
        if self.query_text or box.value:
            self.query_text = ""
            box.value = ""
            self._show()

    @on(Input.Changed, "#event-filter")
    def _filter(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        self._show()
