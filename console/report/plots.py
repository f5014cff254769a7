"""The report's plots, drawn by matplotlib as SVG whose text stays text (the browser that
prints the report sets it in the page's Chinese font)."""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import matplotlib
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from console.report.prometheus import Series

_STYLE: dict[Any, Any] = {  # matplotlib types its keys as a Literal of every rc name
    "svg.fonttype": "none",
    "svg.hashsalt": "tongchou",  # the same data draws the same file
    "font.family": "sans-serif",
    "font.sans-serif": ["WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC", "DejaVu Sans"],
    "font.size": 9,
    "timezone": "Asia/Shanghai",  # the report's times are Beijing time
    "axes.spines.top": False,
    "axes.spines.right": False,
}
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # font fallbacks, said once
COLOURS = ("#1f4e79", "#c0504d", "#9bbb59", "#f79646", "#8064a2", "#4bacc6")


def _svg(figure: Figure) -> str:
    out = io.StringIO()
    with warnings.catch_warnings():  # a machine without a CJK font for matplotlib's metrics
        warnings.simplefilter("ignore")
        figure.savefig(out, format="svg", bbox_inches="tight")
    text = out.getvalue()
    return text[text.index("<svg") :]  # inline in the page: no XML prolog or doctype


def bars(
    categories: Sequence[str],
    groups: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    percent: bool = False,
) -> str:
    """Grouped bars: one group per category, one bar per (name, values) series."""
    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(6.4, 2.6))
        axes = figure.subplots()
        width = 0.8 / max(len(groups), 1)
        for i, (name, values) in enumerate(groups):
            xs = [x + (i - (len(groups) - 1) / 2) * width for x in range(len(categories))]
            drawn = axes.bar(xs, values, width, label=name, color=COLOURS[i % len(COLOURS)])
            labels = [f"{v:.0%}" if percent else f"{v:,.0f}" for v in values]
            axes.bar_label(drawn, labels=labels, fontsize=7, padding=2)
        axes.set_xticks(range(len(categories)), list(categories))
        if percent:
            axes.yaxis.set_major_formatter(PercentFormatter(1.0))
            axes.set_ylim(0, 1.1)
        axes.set_title(title, loc="left", fontsize=10)
        if len(groups) > 1:
            axes.legend(frameon=False, fontsize=8)
        return _svg(figure)


def lines(
    series: Sequence[Series],
    *,
    title: str,
    names: dict[str, str],
    window: tuple[datetime, datetime],
    percent: bool = False,
) -> str:
    """One line per series over the window; `names` translates the series' labels. Series
    of a few points (a Prometheus that started late in the month) get a marker per point."""
    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(6.4, 2.0))
        axes = figure.subplots()
        for i, one in enumerate(series):
            axes.plot(
                one.times,  # type: ignore[arg-type]  # matplotlib converts datetimes itself
                one.values,
                label=names.get(one.label, one.label) or None,
                color=COLOURS[i % len(COLOURS)],
                linewidth=1.2,
                marker="o" if len(one.values) < 24 else None,
                markersize=3,
            )
        axes.set_xlim(window[0], window[1])  # type: ignore[arg-type]  # datetimes, as above
        locator = AutoDateLocator()  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
        if percent:
            axes.yaxis.set_major_formatter(PercentFormatter(1.0))
        axes.set_ylim(bottom=0)
        axes.set_title(title, loc="left", fontsize=10)
        if any(one.label for one in series):
            axes.legend(frameon=False, fontsize=8, ncols=min(len(series), 5))
        return _svg(figure)
