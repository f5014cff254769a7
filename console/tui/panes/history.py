"""History: plots of the fleet over 1 h, 24 h, 7 d or 30 d from Prometheus (`--prometheus`):
utilisation by level, division, site and provider, idle cores, reports/s, pending, failovers."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Protocol

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Static
from textual_plotext import PlotextPlot

from console.client.history import RANGES, PrometheusError, Series, step_for
from console.client.history_charts import CHARTS, Chart
from console.tui.i18n import LEVELS, text

REFRESH_EVERY = 15.0
"""Seconds between queries while the view is on screen."""


class SeriesSource(Protocol):
    """What the view needs of Prometheus (console.client.history.Prometheus, or a fake)."""

    url: str

    async def series(
        self, query: str, span: float, step: float | None = None, end: float | None = None
    ) -> list[Series]: ...


def ticks(start: float, end: float, span: float, n: int = 5) -> tuple[list[float], list[str]]:
    """`n` evenly spaced x ticks with local times (dates too beyond a day)."""
    form = "%H:%M" if span <= 86400 else "%m-%d %H:%M" if span <= 7 * 86400 else "%m-%d"
    at = [start + (end - start) * i / (n - 1) for i in range(n)]
    return at, [dt.datetime.fromtimestamp(t).strftime(form) for t in at]


def shown(series: list[Series], chart: Chart) -> list[Series]:
    """The chart's series with points, the `top` highest by their last value."""
    with_points = [s for s in series if s.points]
    with_points.sort(key=lambda s: (-(s.last or 0.0), s.label(*chart.legend)))
    return with_points[: chart.top]


class History(Vertical, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g", "chart(1)", "Next chart", show=False),
        Binding("G", "chart(-1)", "Previous chart", show=False),
        *(
            Binding(str(i + 1), f"span('{name}')", name, show=False)
            for i, name in enumerate(RANGES)
        ),
    ]

    def __init__(self, lang: str) -> None:
        super().__init__(id="history")
        self.lang = lang
        self.chart = CHARTS[0]
        self.span_name = "1h"
        self.source: SeriesSource | None = None
        self.series: list[Series] = []  # as last drawn
        self.status = ""

    def compose(self) -> ComposeResult:
        yield Static(id="history-title")
        yield PlotextPlot(id="history-plot")
        yield Static(id="history-status")

    def on_mount(self) -> None:
        self.set_interval(REFRESH_EVERY, self.reload)
        self.relabel()

    def attach(self, source: SeriesSource | None) -> None:
        self.source = source
        self.reload()

    def relabel(self) -> None:
        unit = " (%)" if self.chart.unit == "ratio" else ""
        title = f"{text(self.lang, self.chart.key)}{unit} · {self.span_name}"
        keys = text(self.lang, "history_keys")
        self.query_one("#history-title", Static).update(f"[b]{title}[/b]   [dim]{keys}[/dim]")
        self.draw()

    def action_chart(self, step: int) -> None:
        self.chart = CHARTS[(CHARTS.index(self.chart) + step) % len(CHARTS)]
        self.series = []
        self.relabel()
        self.reload()

    def action_span(self, name: str) -> None:
        self.span_name = name
        self.series = []
        self.relabel()
        self.reload()

    def reload(self) -> None:
        """Asks Prometheus again, when there is one and the view is on screen."""
        if self.source is None:
            self.status = text(self.lang, "history_off")
            self.draw()
        elif self.is_on_screen:
            self.fetch(self.source, self.chart, self.span_name)

    @property
    def is_on_screen(self) -> bool:
        return self.is_mounted and self.display and self.region.area > 0

    @work(exclusive=True, group="history")
    async def fetch(self, source: SeriesSource, chart: Chart, span_name: str) -> None:
        span = RANGES[span_name]
        step = step_for(span)
        if not self.series:
            self.status = text(self.lang, "history_loading", url=source.url)
            self.draw()
        try:
            found = await source.series(chart.query, span, step)
        except PrometheusError as err:
            self.series = []
            self.status = text(self.lang, "history_error", why=str(err))
        else:
            if chart is not self.chart or span_name != self.span_name:
                return  # the operator moved on while Prometheus answered
            self.series = shown(found, chart)
            self.status = (
                text(self.lang, "history_from", url=source.url, step=f"{step:g}s")
                if self.series
                else text(self.lang, "history_empty")
            )
        self.draw()

    def legend(self, s: Series) -> str:
        name = s.label(*self.chart.legend)
        if self.chart.legend[0] == "level":
            return LEVELS[self.lang].get(name, name)
        return name

    def draw(self) -> None:
        if not self.is_mounted:
            return
        self.query_one("#history-status", Static).update(self.status)
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        scale = 100.0 if self.chart.unit == "ratio" else 1.0
        if self.series:
            start = min(s.points[0][0] for s in self.series)
            end = max(s.points[-1][0] for s in self.series)
            for s in self.series:
                xs = [t for t, _ in s.points]
                ys = [v * scale for _, v in s.points]
                plt.plot(xs, ys, label=self.legend(s), marker="braille")
            if end > start:
                at, labels = ticks(start, end, RANGES[self.span_name])
                plt.xticks(at, labels)
            if self.chart.unit == "ratio":
                plt.ylim(0, 100)
        plot.refresh()
