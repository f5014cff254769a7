"""The report as HTML that prints well: the hub's state, the month's history when there is
one, the plan's savings, showback per division and the compliance tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import jinja2

from console.report import plots
from console.report.gather import HubState
from console.report.month import CST, Month
from console.report.prometheus import Series
from console.report.texts import millions, say

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("console.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


@dataclass(frozen=True, slots=True)
class History:
    """The month's series from Prometheus, and where they came from."""

    url: str
    start: datetime
    end: datetime
    series: dict[str, list[Series]]


def _when(at: datetime) -> str:
    return at.astimezone(CST).strftime("%Y-%m-%d %H:%M")


def _level_names(lang: str) -> dict[str, str]:
    levels = ("national", "province", "city", "county", "township")
    return {level: say(lang, level) for level in levels}


def now_plots(state: HubState, lang: str) -> list[str]:
    names = [say(lang, row.level) for row in state.levels]
    return [
        plots.bars(
            names,
            [
                (say(lang, "cpu_share"), [r.utilization for r in state.levels]),
                (say(lang, "domestic_share"), [r.domestic_share for r in state.levels]),
            ],
            title=say(lang, "plot_utilization"),
            percent=True,
        ),
        plots.bars(
            names,
            [(say(lang, "idle"), [r.idle for r in state.levels])],
            title=say(lang, "plot_idle"),
        ),
    ]


def history_plots(history: History, lang: str) -> list[tuple[str, str]]:
    """(title, SVG) per history plot; an empty SVG where Prometheus had no data."""
    out = []
    for key, percent in (
        ("utilization", True),
        ("idle", False),
        ("pending", False),
        ("failovers", False),
    ):
        title = say(lang, f"plot_h_{key}")
        series = [s for s in history.series.get(key, []) if s.values]
        svg = (
            plots.lines(
                series,
                title=title,
                names=_level_names(lang),
                window=(history.start, history.end),
                percent=percent,
            )
            if series
            else ""
        )
        out.append((title, svg))
    return out


def render(
    state: HubState, month: Month, lang: str, history: History | None, made: datetime
) -> str:
    """The report's HTML page."""
    if history is not None:
        source = say(
            lang,
            "source_prometheus",
            url=history.url,
            start=_when(history.start),
            end=_when(history.end),
        )
    else:
        source = say(lang, "source_hub")
    plan = state.plan
    return _ENV.get_template("report.html.j2").render(
        lang=lang,
        t=lambda key, **values: say(lang, key, **values),
        money=lambda yuan: millions(lang, yuan),
        month_words=say(
            lang,
            "month",
            year=month.year,
            month=month.month,
            month_name=say(lang, f"month_{month.month}"),
        ),
        made=say(lang, "made", at=_when(made), hub=state.address),
        source=source,
        state=state,
        levels=state.levels,
        total=state.total,
        plan=plan,
        plan_at=_when(plan.finished_at) if plan and plan.finished_at else "—",
        now_plots=now_plots(state, lang),
        history_plots=history_plots(history, lang) if history else [],
    )
