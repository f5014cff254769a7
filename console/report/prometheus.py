"""The month's history from a real Prometheus (its HTTP API, `query_range`), for the report.

The queries read the hub's own series (docs/metrics.md); a failed or refused query is an
error that names the URL and what Prometheus said.
"""

from __future__ import annotations

import argparse
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp

QUERIES: dict[str, tuple[str, str]] = {
    # name: (PromQL, the label its series are split by, "" for one series)
    "utilization": (
        "sum by (level) (tongchou_hub_cluster_cpu_used_cores)"
        " / sum by (level) (tongchou_hub_cluster_cpu_cores)",
        "level",
    ),
    "idle": (
        "sum by (level) (tongchou_hub_cluster_cpu_cores - tongchou_hub_cluster_cpu_used_cores)",
        "level",
    ),
    "pending": ("sum(tongchou_hub_workload_pending_replicas)", ""),
    "failovers": ("sum(increase(tongchou_failovers_total[1d]))", ""),
}


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    times: list[datetime]
    values: list[float]


class PrometheusError(Exception):
    """Prometheus could not be reached or refused a query; the message says which and why."""


def add_prometheus_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("history (Prometheus)")
    group.add_argument(
        "--prometheus",
        default="",
        metavar="URL",
        help="Prometheus to read the month's history from (e.g. http://127.0.0.1:9090); "
        "without it the plots show the hub's state now",
    )
    group.add_argument("--prometheus-ca", type=Path, help="CA certificate (PEM) of its HTTPS")
    group.add_argument(
        "--prometheus-token-file", type=Path, help="file holding a bearer token for Prometheus"
    )


@dataclass(frozen=True, slots=True)
class Prometheus:
    url: str
    token: str = ""
    ca: Path | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Prometheus | None:
        """None without --prometheus; ValueError names the flag that is wrong."""
        if not args.prometheus:
            return None
        if not args.prometheus.startswith(("http://", "https://")):
            raise ValueError(f"--prometheus {args.prometheus!r}: give an http:// or https:// URL")
        token = ""
        if args.prometheus_token_file is not None:
            try:
                token = args.prometheus_token_file.read_text(encoding="utf-8").strip()
            except OSError as err:
                raise ValueError(
                    f"--prometheus-token-file {args.prometheus_token_file}: {err.strerror}"
                ) from err
        if args.prometheus_ca is not None and not args.prometheus_ca.is_file():
            raise ValueError(f"--prometheus-ca {args.prometheus_ca}: no such file")
        return cls(args.prometheus.rstrip("/"), token, args.prometheus_ca)

    def _ssl(self) -> ssl.SSLContext | bool:
        if self.ca is None:
            return True
        return ssl.create_default_context(cafile=str(self.ca))

    async def query_range(
        self, session: aiohttp.ClientSession, query: str, by: str, window: tuple[datetime, datetime]
    ) -> list[Series]:
        start, end = window
        step = max(60, int((end - start).total_seconds() // 240))  # about 240 points a plot
        # points counted back from the end, so the newest one is the window's last instant
        start = end - timedelta(seconds=step * int((end - start).total_seconds() // step))
        params = {
            "query": query,
            "start": f"{start.timestamp():.0f}",
            "end": f"{end.timestamp():.0f}",
            "step": f"{step}s",
        }
        url = f"{self.url}/api/v1/query_range"
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            async with session.get(url, params=params, headers=headers, ssl=self._ssl()) as got:
                body = await got.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            raise PrometheusError(f"{url}: {err or type(err).__name__}") from err
        if not isinstance(body, dict) or body.get("status") != "success":
            said = body.get("error", body) if isinstance(body, dict) else body
            raise PrometheusError(f"{url}: {query}: {said}")
        out = []
        for result in body["data"]["result"]:
            label = result["metric"].get(by, "") if by else ""
            times = [datetime.fromtimestamp(float(t), tz=start.tzinfo) for t, _ in result["values"]]
            values = [float(v) for _, v in result["values"]]
            out.append(Series(label, times, values))
        return sorted(out, key=lambda s: s.label)

    async def history(self, window: tuple[datetime, datetime]) -> dict[str, list[Series]]:
        """Every query of QUERIES over the window."""
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            return {
                name: await self.query_range(session, query, by, window)
                for name, (query, by) in QUERIES.items()
            }
