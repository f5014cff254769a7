"""Events: node state changes, registrations and placements, the newest at the bottom."""

from __future__ import annotations

import datetime as dt

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable

from console.tui.i18n import text
from tongchou.v1 import inventory_pb2

KEPT = 500


class Events(Vertical):
    def __init__(self, lang: str) -> None:
        super().__init__(id="events")
        self.lang = lang
        self._count = 0

    def compose(self) -> ComposeResult:
        yield DataTable(id="event-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key in ("time", "kind", "subject", "message"):
            table.add_column(text(self.lang, key), key=key)

    def add(self, events: list[inventory_pb2.Event]) -> None:
        table = self.query_one(DataTable)
        for event in events:
            at = dt.datetime.fromtimestamp(event.at.ToSeconds()).strftime("%H:%M:%S")
            self._count += 1
            table.add_row(at, event.kind, event.subject, event.message, key=str(self._count))
        while table.row_count > KEPT:
            table.remove_row(next(iter(table.rows)))
