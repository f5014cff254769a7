"""Column labels of the console's small tables, in the interface language."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from console.tui.i18n import text


def label_columns(table: DataTable[Any], lang: str, keys: Sequence[str]) -> None:
    """Adds the columns `keys` on first use; afterwards relabels them in `lang` in place
    (clearing and re-adding columns would lose the rows' widths)."""
    if not table.columns:
        for key in keys:
            table.add_column(text(lang, key), key=key)
        return
    for key in keys:
        table.columns[ColumnKey(key)].label = Text(text(lang, key))
    table.refresh()
