"""Situation (态势): one screen for a wall or a terminal — the fleet by level with idle CPU, its
24 h trend and the 信创 share of cores, MLPS (等保) compliance of workloads and of the shared
platforms' tenants, top pending reasons, failovers."""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from console.client.errors import HubError
from console.client.fleet_view import FleetView
from console.client.history import PrometheusError
from console.client.history_charts import IDLE_RATIO
from console.client.situation import Situation as Figures
from console.client.situation import situation
from console.tui.format import bar
from console.tui.i18n import KINDS, LEVELS, text
from console.tui.panes.history import SeriesSource
from tongchou.v1 import inventory_pb2, workloads_pb2

BLOCKS = "▁▂▃▄▅▆▇█"
TREND_SPAN = 86400.0
TREND_POINTS = 12
"""Points of the idle trend: one every two hours."""
TREND_EVERY = 60.0
"""Seconds between asking Prometheus for the idle trend while the view is on screen."""
PLATFORMS_EVERY = 60.0
"""Seconds between asking the hub for the platform catalog while the view is on screen."""
SHOWN_BELOW = 4
"""Lines of each kind below their level before the rest are counted."""


class PlatformSource(Protocol):
    """The hub's platform catalog (console.client.HubClient, or a fake)."""

    async def platform_instances(
        self, division: str = "", timeout: float = 10.0
    ) -> list[inventory_pb2.PlatformInstance]: ...


def sparkline(values: list[float], low: float = 0.0, high: float = 1.0) -> str:
    """Values between `low` and `high` as block characters, one a value."""
    span = (high - low) or 1.0
    top = len(BLOCKS) - 1
    return "".join(BLOCKS[min(top, max(0, round((v - low) / span * top)))] for v in values)


def percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def share_bar(share: float, width: int = 8) -> Text:
    """A share as a neutral bar (a 信创 share is neither good nor bad at any value)."""
    filled = round(min(1.0, max(0.0, share)) * width)
    out = Text("█" * filled, style="cyan")
    return out.append("░" * (width - filled), style="grey35")


class Situation(Vertical, can_focus=True):
    """The situation in four panels; `show` draws it from the fleet view and the workloads."""

    def __init__(self, lang: str) -> None:
        super().__init__(id="situation")
        self.lang = lang
        self.source: SeriesSource | None = None
        self.trend: dict[str, list[float]] = {}  # level → idle share over 24 h, oldest first
        self.figures = Figures()
        self.view = FleetView()
        self.workloads: list[workloads_pb2.WorkloadStatus] = []
        self.hub: PlatformSource | None = None
        self.instances: list[inventory_pb2.PlatformInstance] = []
        self.unserved = False  # the hub answered that it has no such call (an older hub)
        self.platforms_asked = float("-inf")  # monotonic time of the last ask

    def compose(self) -> ComposeResult:
        yield Static(id="sit-levels")
        with Horizontal(id="sit-middle"):
            yield Static(id="sit-mlps")
            yield Static(id="sit-pending")
        yield Static(id="sit-failovers")

    def on_mount(self) -> None:
        self.set_interval(TREND_EVERY, self.ask_trend)

    def attach(self, source: SeriesSource | None) -> None:
        self.source = source
        self.ask_trend()

    def platforms_from(self, hub: PlatformSource) -> None:
        """Where the platform catalog comes from; asked while the view is on screen."""
        self.hub = hub

    def show(
        self, view: FleetView, workloads: list[workloads_pb2.WorkloadStatus] | None = None
    ) -> None:
        """Takes the newest fleet view (and workloads); redraws when on screen."""
        self.view = view
        if workloads is not None:
            self.workloads = workloads
        if self.is_mounted and self.region.area > 0:
            self.refigure()
            self.draw()
            now = time.monotonic()
            if self.hub is not None and now - self.platforms_asked >= PLATFORMS_EVERY:
                self.platforms_asked = now
                self.fetch_platforms(self.hub)

    def refigure(self) -> None:
        view = self.view
        self.figures = situation(
            view.summary,
            view.nodes.values(),
            self.workloads,
            view.events,
            platforms=self.instances,
        )

    @work(exclusive=True, group="situation-platforms")
    async def fetch_platforms(self, hub: PlatformSource) -> None:
        try:
            self.instances = await hub.platform_instances()
        except HubError as err:
            if not err.unserved:
                self.platforms_asked = float("-inf")  # ask again on the next refresh
                return
            self.unserved, self.instances = True, []
        else:
            self.unserved = False
        self.refigure()
        self.draw()

    def relabel(self) -> None:
        self.draw()

    def ask_trend(self) -> None:
        if self.source is not None and self.is_mounted and self.region.area > 0:
            self.fetch_trend(self.source)

    @work(exclusive=True, group="situation-trend")
    async def fetch_trend(self, source: SeriesSource) -> None:
        try:
            found = await source.series(IDLE_RATIO, TREND_SPAN, TREND_SPAN / TREND_POINTS)
        except PrometheusError:
            self.trend = {}
        else:
            self.trend = {s.label("level"): [v for _, v in s.points] for s in found}
        self.draw()

    def draw(self) -> None:
        if not self.is_mounted:
            return
        self.query_one("#sit-levels", Static).update(self._levels())
        self.query_one("#sit-mlps", Static).update(self._mlps())
        self.query_one("#sit-pending", Static).update(self._pending())
        self.query_one("#sit-failovers", Static).update(self._failovers())

    def t(self, key: str) -> str:
        return text(self.lang, key)

    def _title(self, key: str) -> Text:
        return Text(text(self.lang, key), style="bold reverse")

    def _levels(self) -> Table:
        t = self.t
        table = Table(title=self._title("sit_levels"), title_justify="left", expand=True, box=None)
        for key in ("level", "ready", "stale", "lost", "cpu", "sit_idle", "sit_trend"):
            table.add_column(
                t(key), justify="right" if key in ("ready", "stale", "lost") else "left"
            )
        table.add_column(t("sit_xinchuang"))
        for row in self.figures.levels:
            trend = self.trend.get(row.level)
            table.add_row(
                LEVELS[self.lang].get(row.level, row.level),
                f"{row.ready:,}",
                Text(f"{row.stale:,}", style="yellow" if row.stale else ""),
                Text(f"{row.lost:,}", style="bold red" if row.lost else ""),
                bar(row.cpu_used_cores, row.cpu_cores, 10),
                f"{row.idle_cores:,.0f} ({percent(row.idle_ratio)})",
                sparkline(trend) if trend else "—" if self.source is None else "…",
                share_bar(row.domestic_share).append(
                    " "
                    + t("sit_cores").format(
                        share=percent(row.domestic_share), cores=f"{row.cores:,}"
                    )
                ),
            )
        return table

    def _mlps(self) -> Group:
        t = self.t
        table = Table(title=self._title("sit_mlps"), title_justify="left", expand=True, box=None)
        keys = ("mlps", "sit_workloads", "placed", "sit_clusters", "sit_platforms", "sit_tenants")
        for key in keys:
            table.add_column(t(key), justify="left" if key == "mlps" else "right")
        known = self.figures.platforms
        for row in self.figures.mlps:
            level = text(self.lang, "sit_mlps_level", n=row.level) if row.level else "—"
            table.add_row(
                level,
                f"{row.workloads:,}",
                f"{row.replicas:,}",
                f"{row.clusters:,}",
                f"{row.platforms:,}" if known else "—",
                f"{row.tenants:,}" if known else "—",
            )
        below = Text("\n" + t("sit_below") + ": ", style="bold")
        if not self.figures.below:
            below.append(t("sit_none_below"), style="green")
        for b in self.figures.below[:SHOWN_BELOW]:
            line = t("sit_below_row").format(
                workload=b.workload, need=b.need, cluster=b.cluster, has=b.has
            )
            below.append("\n  " + line, style="bold red")
        _more(below, len(self.figures.below))
        return Group(table, below, self._tenants_below())

    def _tenants_below(self) -> Text:
        """The platform instances below their level with their tenants, or why none is shown."""
        t = self.t
        if not self.figures.platforms:
            return Text(t("sit_catalog_unserved" if self.unserved else "sit_no_catalog"), "dim")
        out = Text()
        if not self.figures.tenants_below:
            return out.append(t("sit_none_tenants_below"), style="green")
        for i, b in enumerate(self.figures.tenants_below[:SHOWN_BELOW]):
            tenants = ", ".join(b.tenants)
            if b.elsewhere:
                elsewhere = t("sit_tenants_elsewhere").format(n=b.elsewhere)
                tenants = f"{tenants} + {elsewhere}" if tenants else elsewhere
            line = t("sit_tenants_below_row").format(
                platform=b.platform, need=b.need, site=b.site, has=b.has
            )
            out.append(("\n" if i else "") + "  " + line, style="bold red")
            out.append("\n    " + t("sit_tenants_of").format(tenants=tenants), style="red")
        _more(out, len(self.figures.tenants_below))
        return out

    def _pending(self) -> Text:
        out = self._title("sit_pending")
        if not self.figures.pending:
            out.append("\n" + text(self.lang, "sit_no_pending"), style="green")
        for cause, replicas in self.figures.pending:
            out.append(f"\n{replicas:>5,}  ", style="yellow")
            out.append(cause)
        return out

    def _failovers(self) -> Text:
        out = self._title("sit_failovers")
        if not self.figures.failovers:
            out.append("\n" + text(self.lang, "sit_no_failovers"), style="green")
        kind = KINDS.get(self.lang, {}).get("failover", "failover")
        for event in self.figures.failovers:
            at = dt.datetime.fromtimestamp(event.at.ToSeconds()).strftime("%m-%d %H:%M")
            out.append(f"\n{at} ")
            out.append(kind, style="bold red")
            out.append(f" {event.subject}  {event.message}")
        return out


def _more(out: Text, count: int) -> None:
    """Counts the lines past the shown ones."""
    if count > SHOWN_BELOW:
        out.append(f"\n  … +{count - SHOWN_BELOW}", style="bold red")
