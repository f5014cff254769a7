"""Audit: the hub's tamper-evident audit log, newest at the bottom, for the auditor roles."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from console.tui.i18n import text
from console.tui.widgets.fleet_table import Cell, Column, FleetTable
from tongchou.v1 import security_pb2

KEPT = 2000
COLUMNS = (("seq", 7), ("at", 20), ("actor", 18), ("role", 10), ("action", 20), ("object", 24),
           ("outcome", 30))  # fmt: skip


class Audit(Vertical):
    """Who did what, when, and whether the hub allowed it (`AuditService.ExportAudit`)."""

    def __init__(self, lang: str) -> None:
        super().__init__(id="audit")
        self.lang = lang
        self._records: dict[str, security_pb2.AuditRecord] = {}
        self.since = ""  # the newest record's time: the next fetch starts there

    def compose(self) -> ComposeResult:
        yield Static(id="audit-note")
        columns = [
            Column(key, text(self.lang, f"audit_{key}"), width, flex=key == "outcome")
            for key, width in COLUMNS
        ]
        yield FleetTable(columns, self._cells, id="audit-table")

    def relabel(self) -> None:
        self.query_one(FleetTable).relabel({k: text(self.lang, f"audit_{k}") for k, _ in COLUMNS})

    def _cells(self, key: str) -> tuple[Cell, ...]:
        r = self._records.get(key)
        if r is None:
            return ()
        outcome = Text(r.outcome, style="" if r.outcome.startswith("ok") else "red")
        return (r.seq, r.at[:19], r.actor, r.role, r.action, r.object, outcome)

    def refused(self, why: str) -> None:
        self.query_one("#audit-note", Static).update(text(self.lang, "audit_refused", why=why))

    def add(self, records: list[security_pb2.AuditRecord]) -> None:
        for r in records:
            self._records[f"{r.seq:012d}"] = r
            self.since = max(self.since, r.at)
        for old in sorted(self._records)[: max(0, len(self._records) - KEPT)]:
            del self._records[old]
        table = self.query_one(FleetTable)
        following = table.cursor_row >= table.row_count - 1
        table.set_keys(self._records)
        if following:
            table.action_jump(-1)
        self.query_one("#audit-note", Static).update(
            text(self.lang, "audit_note", n=len(self._records))
        )
