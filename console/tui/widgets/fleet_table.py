"""A table that stays fast at 10,000+ rows: it draws only the lines on screen.

Textual's DataTable measures and stores every cell when a row is added, which takes about a
second for 10,000 rows. This table keeps only an ordered list of row keys and a function
that makes a row's cells; a row is rendered when it scrolls into view and cached until its
data changes. Sorting and filtering reorder the keys, nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.geometry import Offset, Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cell = str | int | float | Text
RowCells = Sequence[Cell]


_DIGITS = re.compile(r"(\d+)")


def natural(value: Any) -> Any:
    """Sorts `node-9` before `node-10`; numbers and other values sort as they are."""
    if not isinstance(value, str):
        return value
    return tuple(int(p) if p.isdigit() else p for p in _DIGITS.split(value))


CACHED_ROWS = 500
"""Rendered rows kept; past that, rows off screen are forgotten (paging through 10,000
rows would otherwise keep them all, and the garbage collector would scan them all)."""


@dataclass(slots=True)
class Column:
    key: str
    label: str
    width: int
    numeric: bool = False  # right-aligned
    flex: bool = False  # grows or shrinks (down to its first width) to fill the table's width
    min_width: int = 0


class FleetTable(ScrollView, can_focus=True):
    """Rows are keys; `cells(key)` gives a row's cells. Enter posts `FleetTable.Selected`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
        Binding("greater_than_sign", "sort(1)", "Sort →", key_display=">", show=False),
        Binding("less_than_sign", "sort(-1)", "Sort ←", key_display="<", show=False),
        Binding("exclamation_mark", "reverse", "Reverse", key_display="!", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "fleet-table--header",
        "fleet-table--cursor",
        "fleet-table--even-row",
    }
    DEFAULT_CSS = """
    FleetTable {
        height: 1fr;
        background: $surface;
    }
    FleetTable > .fleet-table--header {
        text-style: bold;
        background: $panel;
        color: $foreground;
    }
    FleetTable > .fleet-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: bold;
    }
    FleetTable:blur > .fleet-table--cursor {
        background: $block-cursor-blurred-background;
    }
    FleetTable > .fleet-table--even-row {
        background: $surface-lighten-1 20%;
    }
    """

    class Selected(Message):
        def __init__(self, table: FleetTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> FleetTable:
            return self.table

    cursor_row: reactive[int] = reactive(0, always_update=True)

    def __init__(
        self,
        columns: Iterable[Column],
        cells: Callable[[str], RowCells],
        *,
        sort_value: Callable[[str, str], object] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.columns = list(columns)
        self._cells = cells
        self._sort_value = sort_value
        self._keys: list[str] = []
        self._index: dict[str, int] = {}
        self._strips: dict[str, Strip] = {}  # a row's cells, unstyled, uncropped
        # a row as last drawn, with the (style, scroll_x, width) it was drawn for
        self._drawn: dict[str, tuple[tuple[Style, int, int], Strip]] = {}
        self.sort_column = 0
        self.sort_reverse = False
        self._header_strip: Strip | None = None
        self._frame: tuple[Style, Style, Style, int, Offset] = (
            Style(), Style(), Style(), 0, Offset(0, 0),
        )  # fmt: skip

    # -- data ---------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def keys(self) -> list[str]:
        return self._keys

    @property
    def cursor_key(self) -> str | None:
        return self._keys[self.cursor_row] if self._keys else None

    def get_row(self, key: str) -> list[Cell]:
        return list(self._cells(key))

    def set_keys(self, keys: Iterable[str]) -> None:
        """Shows `keys`, in the table's sort order; the cursor stays on its row if it can."""
        current = self.cursor_key
        ordered = list(keys)
        if self._sort_value is not None and (self.sort_column or self.sort_reverse):
            column = self.columns[self.sort_column].key
            value = self._sort_value
            ordered.sort(key=lambda k: (natural(value(k, column)), natural(k)))
            if self.sort_reverse:
                ordered.reverse()
        else:
            ordered.sort(key=natural)
        self._keys = ordered
        self._index = {key: i for i, key in enumerate(ordered)}
        self._strips.clear()
        self._drawn.clear()
        self._header_strip = None
        size = Size(self._width(), len(ordered) + 1)
        if size != self.virtual_size:  # setting it, even unchanged, lays the screen out again
            self.virtual_size = size
        row = self._index.get(current, self.cursor_row) if current is not None else 0
        self.cursor_row = max(0, min(row, len(ordered) - 1))
        self.refresh()

    def changed(self, keys: Iterable[str]) -> None:
        """Forgets the cached rendering of `keys`; redraws those on screen."""
        top = self.scroll_offset.y
        bottom = top + self.size.height
        for key in keys:
            self._drawn.pop(key, None)
            if self._strips.pop(key, None) is not None:
                row = self._index.get(key)
                if row is not None and top <= row < bottom:
                    self.refresh_line(row + 1)  # only that line is drawn again

    def relabel(self, labels: dict[str, str]) -> None:
        for column in self.columns:
            column.label = labels.get(column.key, column.label)
        self._strips.clear()
        self._drawn.clear()
        self._header_strip = None
        self.refresh()

    def _width(self) -> int:
        return sum(c.width + 1 for c in self.columns)

    def on_resize(self) -> None:
        """A flex column takes the width the others leave, so no horizontal scrollbar
        covers the last row on a narrow terminal."""
        flex = [c for c in self.columns if c.flex]
        if not flex:
            return
        column = flex[0]
        column.min_width = column.min_width or column.width
        others = sum(c.width + 1 for c in self.columns if c is not column)
        width = max(column.min_width, self.size.width - others - 4)  # 2: vertical scrollbar
        if width != column.width:
            column.width = width
            self.set_keys(self._keys)

    # -- drawing ------------------------------------------------------------------------

    def _line(self, cells: Sequence[Cell], style: Style) -> Strip:
        """One row as segments: plain cells padded or cut to their column's width by terminal
        cells (a Chinese character takes two), styled cells rendered by Rich."""
        segments: list[Segment] = []
        console = self.app.console
        for column, cell in zip(self.columns, cells, strict=False):
            width = column.width
            if isinstance(cell, Text):
                part = cell.copy()
                if column.numeric and part.cell_len < width:
                    part = Text(" " * (width - part.cell_len)) + part
                part.truncate(width, overflow="ellipsis", pad=True)
                segments.extend(part.render(console))
            else:
                value = str(cell)
                used = cell_len(value)
                if used > width:
                    value = set_cell_size(value, width - 1) + "…"
                elif column.numeric:
                    value = " " * (width - used) + value
                else:
                    value += " " * (width - used)
                segments.append(Segment(value))
            segments.append(Segment(" "))
        length = sum(c.width + 1 for c in self.columns[: len(cells)])
        return Strip(Segment.apply_style(segments, style), length)

    def _header(self) -> Strip:
        if self._header_strip is None:
            self._header_strip = self._make_header()
        return self._header_strip

    def _make_header(self) -> Strip:
        labels: list[Cell] = []
        for i, column in enumerate(self.columns):
            label = column.label
            if i == self.sort_column and (self.sort_column or self.sort_reverse):
                # the arrow always shows: the label gives way to it in a narrow column
                mark = "▼" if self.sort_reverse else "▲"
                room = max(0, column.width - 2)
                if cell_len(label) > room:
                    label = set_cell_size(label, max(0, room - 1)) + "…"
                label = f"{label} {mark}"
            labels.append(label)
        return self._line(labels, self.get_component_rich_style("fleet-table--header"))

    def render_lines(self, crop: Region) -> list[Strip]:
        if len(self._strips) > CACHED_ROWS:  # keep what is on screen; the rest is redrawn
            top = self.scroll_offset.y
            shown = set(self._keys[top : top + self.size.height])
            self._strips = {k: v for k, v in self._strips.items() if k in shown}
            self._drawn = {k: v for k, v in self._drawn.items() if k in shown}
        # Styles are looked up once a frame, not once a line.
        base = self.rich_style
        self._frame = (
            base,
            base + self.get_component_rich_style("fleet-table--cursor"),
            base + self.get_component_rich_style("fleet-table--even-row"),
            self.size.width,
            self.scroll_offset,
        )
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        base, cursor, even, width, (scroll_x, scroll_y) = self._frame
        if y == 0:
            strip = self._header()
        else:
            row = scroll_y + y - 1
            if row >= len(self._keys):
                return Strip.blank(width, base)
            key = self._keys[row]
            style = cursor if row == self.cursor_row else even if row % 2 else base
            drawn = self._drawn.get(key)
            if drawn is not None and drawn[0] == (style, scroll_x, width):
                return drawn[1]
            cached = self._strips.get(key)
            if cached is None:
                cached = self._strips[key] = self._line(self._cells(key), Style())
            strip = cached.apply_style(style).crop_extend(scroll_x, scroll_x + width, base)
            self._drawn[key] = ((style, scroll_x, width), strip)
            return strip
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    # -- moving -------------------------------------------------------------------------

    def watch_cursor_row(self, old: int, new: int) -> None:
        rows = max(1, self.size.height - 1)
        top = self.scroll_offset.y
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + rows:
            self.scroll_to(y=new - rows + 1, animate=False)
        self.refresh()

    def action_cursor(self, step: int) -> None:
        if self._keys:
            self.cursor_row = max(0, min(self.cursor_row + step, len(self._keys) - 1))

    def action_page(self, direction: int) -> None:
        if not self._keys:
            return
        rows = max(1, self.size.height - 1)
        self.cursor_row = max(0, min(self.cursor_row + direction * rows, len(self._keys) - 1))
        self.scroll_to(y=self.scroll_offset.y + direction * rows, animate=False)

    def action_jump(self, row: int) -> None:
        if self._keys:
            self.cursor_row = row % len(self._keys)

    def action_select(self) -> None:
        if self._keys:
            self.post_message(self.Selected(self, self._keys[self.cursor_row]))

    def action_sort(self, step: int) -> None:
        if self._sort_value is None:
            return
        self.sort_column = (self.sort_column + step) % len(self.columns)
        self._sorted()

    def action_reverse(self) -> None:
        if self._sort_value is None:
            return
        self.sort_reverse = not self.sort_reverse
        self._sorted()

    def _sorted(self) -> None:
        """After a new order the cursor goes to the top, where the order starts."""
        self.set_keys(self._keys)
        self.cursor_row = 0
        self.scroll_to(y=0, animate=False)

    def on_click(self, event: Click) -> None:
        if event.y == 0:
            x = event.x + self.scroll_offset.x
            for i, column in enumerate(self.columns):
                if x < column.width + 1:
                    if i == self.sort_column:
                        self.action_reverse()
                    else:
                        self.sort_column = i
                        self._sorted()
                    return
                x -= column.width + 1
            return
        row = self.scroll_offset.y + event.y - 1
        if 0 <= row < len(self._keys):
            if row == self.cursor_row:
                self.action_select()
            self.cursor_row = row
