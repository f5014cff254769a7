"""The situation (态势) and history views in the console: every panel on a 100×30 terminal and
on a 200×50 wall screen, in English and Chinese; history plots from a series source, its keys,
and what it says without Prometheus or when Prometheus fails."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual_plotext import PlotextPlot

from console.client.history import RANGES, PrometheusError, Series
from console.client.history_charts import CHARTS, IDLE_RATIO
from console.tui.app import TongchouApp
from console.tui.panes.history import History
from console.tui.panes.situation import sparkline
from tests.tui.screen_text import screen_text
from tests.tui.situation_fleet import hub

NOW = 1_796_000_000.0


class FakePrometheus:
    """Answers every query with one rising series per level, and records what was asked."""

    url = "http://prometheus.test:9090"

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.asked: list[tuple[str, float, float | None]] = []

    async def series(
        self, query: str, span: float, step: float | None = None, end: float | None = None
    ) -> list[Series]:
        self.asked.append((query, span, step))
        if self.fail:
            raise PrometheusError("cannot reach Prometheus at http://prometheus.test:9090")
        n = round(span / step) if step else 24
        times = [NOW - span + span * i / (n - 1) for i in range(n)]
        return [
            Series({"level": level}, tuple((t, base + 0.01 * i) for i, t in enumerate(times)))
            for level, base in (("city", 0.4), ("county", 0.6))
        ]


async def ready(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, TongchouApp)
    for _ in range(200):
        if app.view.ready and app.division_names:
            break
        await pilot.pause(0.05)
    await pilot.pause()


async def settle(pilot: Pilot[Any], check: Any, what: str) -> None:
    for _ in range(200):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize(
    ("lang", "size", "words"),
    [
        ("en", (100, 30), ["Fleet by level", "MLPS (等保) compliance", "Top pending reasons",
                           "Recent failovers", "信创 share of cores", "Idle trend 24 h"]),
        ("zh", (100, 30), ["各层级资源状态", "等保合规", "主要待部署原因", "最近故障转移",
                           "信创核数占比", "24 小时闲置趋势"]),
        ("en", (200, 50), ["Fleet by level", "Recent failovers"]),
        ("zh", (200, 50), ["各层级资源状态", "最近故障转移"]),
    ],
)  # fmt: skip
async def test_every_panel_fits(lang: str, size: tuple[int, int], words: list[str]) -> None:
    app = TongchouApp(hub(), lang=lang, clock=False)
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        await pilot.press("b")
        await settle(pilot, lambda: "cluster-441422" in "\n".join(screen_text(app)), "failovers")
        screen = "\n".join(screen_text(app))
        for word in words:
            assert word in screen, f"{word!r} not on the {size} screen:\n{screen}"
        # the placement below its level, the newest failover first, the top pending cause
        assert "cluster-440305" in screen and "identity" in screen
        assert screen.index("cluster-441422") < screen.index("cluster-440106  unavailable")
        assert "no room for a replica" in screen
        assert "67%" in screen  # the county's 信创 share of cores


async def test_the_idle_trend_comes_from_prometheus() -> None:
    source = FakePrometheus()
    app = TongchouApp(hub(), clock=False, prometheus=source)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("b")
        # the county's idle share over 24 h, a point every 2 hours
        trend = sparkline([0.6 + 0.01 * i for i in range(12)])
        await settle(pilot, lambda: trend in "\n".join(screen_text(app)), "the trend")
        assert (IDLE_RATIO, 86400.0, 7200.0) in source.asked


async def test_history_plots_utilisation_by_level_and_follows_the_keys() -> None:
    source = FakePrometheus()
    app = TongchouApp(hub(), clock=False, prometheus=source)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("h")
        pane = app.query_one(History)
        await settle(pilot, lambda: len(pane.series) == 2, "the plot")
        assert source.asked[-1] == (CHARTS[0].query, RANGES["1h"], 15.0)
        assert CHARTS[0].query == "level:tongchou_hub_cpu_utilization:ratio"
        screen = "\n".join(screen_text(app))
        assert "CPU utilisation by level (%) · 1h" in screen
        assert "county" in screen and "city" in screen  # the legend
        assert "from http://prometheus.test:9090 · step 15s" in screen
        plot = app.query_one(PlotextPlot)
        assert plot.region.height > 10
        await pilot.press("4")
        await settle(pilot, lambda: source.asked[-1][1] == RANGES["30d"], "30 days")
        assert source.asked[-1] == (CHARTS[0].query, RANGES["30d"], 10800.0)
        await pilot.press("g")
        await settle(pilot, lambda: source.asked[-1][0] == CHARTS[1].query, "the next chart")
        assert "CPU utilisation by division (%) · 30d" in "\n".join(screen_text(app))
        await pilot.press("l")
        await pilot.pause()
        assert "各行政区 CPU 利用率 (%) · 30d" in "\n".join(screen_text(app))


async def test_history_says_what_is_missing_or_wrong() -> None:
    app = TongchouApp(hub(), clock=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("h")
        await pilot.pause()
        assert "start the console with --prometheus URL" in "\n".join(screen_text(app))
    failing = TongchouApp(hub(), clock=False, prometheus=FakePrometheus(fail=True))
    async with failing.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("h")
        await settle(
            pilot,
            lambda: "Prometheus: cannot reach" in "\n".join(screen_text(failing)),
            "the error",
        )
