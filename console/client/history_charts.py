"""The history charts: each a PromQL query over the chart's recording rules
(charts/tongchou/files/alerts.yaml), the label that names its series, and its unit."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chart:
    key: str
    """Its name, and the label key of its title in the console's catalog."""
    query: str
    legend: tuple[str, ...]
    """Labels that name a series, the first present wins."""
    unit: str
    """`ratio` (drawn as %), `cores`, `per_second` or `count`."""
    top: int = 8
    """Series drawn at most: the highest by their last value."""


CHARTS: tuple[Chart, ...] = (
    Chart("util_level", "level:tongchou_hub_cpu_utilization:ratio", ("level",), "ratio"),
    Chart("util_division", "division:tongchou_hub_cpu_utilization:ratio", ("division",), "ratio"),
    Chart("util_site", "site:tongchou_hub_cpu_utilization:ratio", ("site",), "ratio"),
    Chart("util_provider", "provider:tongchou_hub_cpu_utilization:ratio", ("provider",), "ratio"),
    Chart("idle_level", "level:tongchou_hub_cpu_idle_cores:sum", ("level",), "cores"),
    Chart("reports_rate", "job:tongchou_hub_reports_received:rate1m", ("job",), "per_second"),
    Chart("pending_replicas", "job:tongchou_hub_workload_pending_replicas:sum", ("job",), "count"),
    Chart("failovers", "cluster:tongchou_failovers:increase1h", ("cluster",), "count"),
)
BY_KEY = {chart.key: chart for chart in CHARTS}

IDLE_RATIO = "level:tongchou_hub_cpu_idle:ratio"
"""Share of each level's CPU not in use: the situation view's idle trend."""
