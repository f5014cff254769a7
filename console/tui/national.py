"""The national console (`tongchou console --national`): one row per province from a national
hub's roll-up, a province that went quiet shown stale with its age, and a province's divisions
on Enter."""

from __future__ import annotations

from typing import ClassVar, Protocol

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static

from console.client.errors import HubError
from console.tui.format import bar, size
from console.tui.i18n import LABELS, text
from tongchou.v1 import rollup_pb2

REFRESH_SECONDS = 2.0

_PROVINCE_KEYS = ("province", "name", "nodes", "cores", "cpu", "idle_cores",
                  "xinchuang_cores", "memory", "divisions", "summary_age")  # fmt: skip
_DIVISION_KEYS = ("division", "name", "level", "nodes", "cores", "cpu", "idle_cores",
                  "xinchuang_cores", "platforms")  # fmt: skip
PROVINCE_COLUMNS = {lang: tuple(text(lang, f"nat_{k}") for k in _PROVINCE_KEYS) for lang in LABELS}
DIVISION_COLUMNS = {lang: tuple(text(lang, f"nat_{k}") for k in _DIVISION_KEYS) for lang in LABELS}
TEXTS = {lang: {k: text(lang, f"nat_{k}") for k in ("stale", "none", "back")} for lang in LABELS}
"""Columns and words of the national console, in each language (the gettext catalog)."""


class NationalHub(Protocol):
    """What the national console needs of a hub (console.client.HubClient, or a fake)."""

    address: str

    async def provinces(self, timeout: float = 10.0) -> list[rollup_pb2.ProvinceRow]: ...

    async def province(self, code: str, timeout: float = 10.0) -> rollup_pb2.ProvinceView: ...


def age_text(seconds: float) -> str:
    """`42s`, `5m07s`, `3h12m`, `2d04h`."""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def share(part: float, whole: float) -> str:
    return f"{part:,.0f} ({part / whole:.0%})" if whole else f"{part:,.0f}"


class NationalApp(App[None]):
    """Provinces, refreshed every REFRESH_SECONDS; Enter drills into one, Esc comes back."""

    TITLE = "Tongchou · national"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "provinces", "Provinces"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, hub: NationalHub, *, lang: str = "en") -> None:
        super().__init__()
        self.hub = hub
        self.lang = lang
        self.drilled = ""  # the province shown, "" for the list
        self.rows: list[rollup_pb2.ProvinceRow] = []
        self.error = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="national-status")
        yield DataTable(id="provinces", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="divisions", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#provinces", DataTable).add_columns(*PROVINCE_COLUMNS[self.lang])
        divisions = self.query_one("#divisions", DataTable)
        divisions.add_columns(*DIVISION_COLUMNS[self.lang])
        divisions.display = False
        self.refresh_provinces()
        self.set_interval(REFRESH_SECONDS, self.refresh_provinces)

    @work(exclusive=True, group="national")
    async def refresh_provinces(self) -> None:
        try:
            self.rows = await self.hub.provinces()
            self.error = ""
        except HubError as err:
            self.error = str(err)
        self.show_provinces()
        if self.drilled:
            await self._load_province(self.drilled)

    def show_provinces(self) -> None:
        table = self.query_one("#provinces", DataTable)
        keep = table.cursor_row
        table.clear()
        texts = TEXTS[self.lang]
        for r in self.rows:
            c = r.capacity
            age = Text(age_text(r.age_seconds))
            if r.stale:
                age = Text(f"{texts['stale']} · {age_text(r.age_seconds)}", style="bold yellow")
            table.add_row(
                r.province, r.name, f"{c.nodes_ready}/{c.nodes}", f"{c.cpu_cores:,.0f}",
                bar(c.cpu_used_cores, c.cpu_cores, width=8), f"{c.idle_cpu_cores:,.0f}",
                share(c.domestic_cpu_cores, c.cpu_cores), size(c.memory_bytes), r.divisions,
                age, key=r.province,
            )  # fmt: skip
        if self.rows:
            table.move_cursor(row=min(max(keep, 0), len(self.rows) - 1))
        status = self.error or ("" if self.rows else texts["none"])
        self.query_one("#national-status", Static).update(status)

    @on(DataTable.RowSelected, "#provinces")
    async def drill(self, event: DataTable.RowSelected) -> None:
        code = str(event.row_key.value)
        self.drilled = code
        await self._load_province(code)

    async def _load_province(self, code: str) -> None:
        try:
            view = await self.hub.province(code)
        except HubError as err:
            self.query_one("#national-status", Static).update(str(err))
            return
        self.show_divisions(view)

    def show_divisions(self, view: rollup_pb2.ProvinceView) -> None:
        table = self.query_one("#divisions", DataTable)
        table.clear()
        for d in view.divisions:
            c = d.capacity
            platforms = ", ".join(
                f"{p.display_name or p.platform} ({len(p.tenants)})" for p in d.platforms
            )
            table.add_row(
                d.code, d.name, d.level, f"{c.nodes_ready}/{c.nodes}", f"{c.cpu_cores:,.0f}",
                bar(c.cpu_used_cores, c.cpu_cores, width=8), f"{c.idle_cpu_cores:,.0f}",
                share(c.domestic_cpu_cores, c.cpu_cores), platforms or "—", key=d.code,
            )  # fmt: skip
        row = view.row
        texts = TEXTS[self.lang]
        stale = f" · {texts['stale']}" if row.stale else ""
        self.query_one("#national-status", Static).update(
            f"{row.province} {row.name} · {age_text(row.age_seconds)}{stale} · {texts['back']}"
        )
        self.query_one("#provinces", DataTable).display = False
        table.display = True
        table.focus()

    def action_provinces(self) -> None:
        self.drilled = ""
        self.query_one("#divisions", DataTable).display = False
        provinces = self.query_one("#provinces", DataTable)
        provinces.display = True
        provinces.focus()
        self.show_provinces()
