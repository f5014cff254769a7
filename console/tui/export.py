"""The table on screen as CSV: header and rows as shown (filter and sort included)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from console.tui.widgets.fleet_table import FleetTable


def _plain(cell: object) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def table_rows(table: FleetTable | DataTable[Any]) -> Iterable[list[str]]:
    """The header, then every row in the order shown (all of them, not only the visible)."""
    if isinstance(table, FleetTable):
        yield [c.label for c in table.columns]
        for key in table.keys:
            yield [_plain(c) for c in table.get_row(key)]
        return
    yield [_plain(c.label) for c in table.columns.values()]
    for row in range(table.row_count):
        yield [_plain(c) for c in table.get_row_at(row)]


def to_csv(rows: Iterable[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows(rows)
    return out.getvalue()
