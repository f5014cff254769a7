"""Events: node state changes, registrations and placements, the newest at the bottom."""

from __future__ import annotations

import datetime as dt

from textual.app import ComposeResult
from textual.containers import Vertical

from console.tui.i18n import text
from console.tui.widgets.fleet_table import Cell, Column, FleetTable
from tongchou.v1 import inventory_pb2

KEPT = 500
COLUMNS = (("time", 8), ("kind", 12), ("subject", 32), ("message", 80))


class Events(Vertical):
    """The newest KEPT events; a burst (a whole province registering) costs one redraw."""

    def __init__(self, lang: str) -> None:
        super().__init__(id="events")
        self.lang = lang
        self._count = 0
        self._rows: dict[str, tuple[Cell, ...]] = {}

    def compose(self) -> ComposeResult:
        columns = [Column(key, text(self.lang, key), width) for key, width in COLUMNS]
        yield FleetTable(columns, self._cells, id="event-table")

    def _cells(self, key: str) -> tuple[Cell, ...]:
        return self._rows.get(key, ())

    def add(self, events: list[inventory_pb2.Event]) -> None:
        if not events:
            return
        for event in events[-KEPT:]:
            at = dt.datetime.fromtimestamp(event.at.ToSeconds()).strftime("%H:%M:%S")
            self._count += 1
            self._rows[f"{self._count:012d}"] = (at, event.kind, event.subject, event.message)
        for old in list(self._rows)[: max(0, len(self._rows) - KEPT)]:
            del self._rows[old]
        table = self.query_one(FleetTable)
        following = table.cursor_row >= table.row_count - 1
        table.set_keys(self._rows)
        if following:  # stay on the newest, as `tail -f` does
            table.action_jump(-1)
