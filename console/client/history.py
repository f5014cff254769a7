"""History from Prometheus: `query_range` over its HTTP API (TLS, client certificate, bearer
token), answered as typed series; the console's plots, the situation view and reports read it."""

from __future__ import annotations

import argparse
import math
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

RANGES: dict[str, float] = {"1h": 3600.0, "24h": 86400.0, "7d": 7 * 86400.0, "30d": 30 * 86400.0}
"""The spans the console offers, by name."""
POINTS = 240
"""Points a plot asks for across its span (Prometheus refuses more than 11,000)."""


class PrometheusError(Exception):
    """A query Prometheus could not answer: unreachable, refused, or a bad expression."""


@dataclass(frozen=True)
class Series:
    """One time series of a range query: its labels and its (unix seconds, value) points."""

    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]

    def label(self, *keys: str) -> str:
        """The first of `keys` the series carries (e.g. `level`), or its labels spelt out."""
        for key in keys:
            if self.labels.get(key):
                return self.labels[key]
        return ",".join(f"{k}={v}" for k, v in sorted(self.labels.items())) or "—"

    @property
    def last(self) -> float | None:
        return self.points[-1][1] if self.points else None


def step_for(span: float, points: int = POINTS) -> float:
    """A whole number of seconds (at least 1) that gives about `points` points over `span`."""
    return float(max(1, math.ceil(span / points)))


def span_of(name: str) -> float:
    """`1h`, `24h`, `7d` or `30d` in seconds; anything else is an error naming the choices."""
    try:
        return RANGES[name]
    except KeyError:
        raise ValueError(f"unknown range {name!r}; choose one of {', '.join(RANGES)}") from None


def parse_matrix(body: Any) -> list[Series]:
    """The `data.result` of a `query_range` answer as series; NaN and ±Inf points dropped."""
    if not isinstance(body, dict) or body.get("status") != "success":
        why = body.get("error", body) if isinstance(body, dict) else body
        raise PrometheusError(f"Prometheus refused the query: {why}")
    data = body.get("data") or {}
    if data.get("resultType") != "matrix":
        raise PrometheusError(f"expected a matrix from query_range, got {data.get('resultType')}")
    out = []
    for item in data.get("result") or []:
        points = []
        for at, value in item.get("values") or []:
            number = float(value)
            if math.isfinite(number):
                points.append((float(at), number))
        out.append(Series(dict(item.get("metric") or {}), tuple(points)))
    return out


@dataclass(frozen=True)
class PrometheusSettings:
    """Where Prometheus is and how to reach it (the console's --prometheus flags)."""

    url: str
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    token_file: Path | None = None

    def check(self) -> None:
        """Raises ValueError naming the flag that is wrong."""
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"--prometheus {self.url!r}: give an http:// or https:// URL, "
                "e.g. http://127.0.0.1:9090"
            )
        if (self.cert is None) != (self.key is None):
            raise ValueError("--prometheus-cert and --prometheus-key go together")
        for flag, path in (
            ("--prometheus-ca", self.ca),
            ("--prometheus-cert", self.cert),
            ("--prometheus-key", self.key),
            ("--prometheus-token-file", self.token_file),
        ):
            if path is not None and not path.is_file():
                raise ValueError(f"{flag} {path}: no such file")
        if (self.ca or self.cert) and parts.scheme != "https":
            raise ValueError(f"--prometheus {self.url!r}: TLS options need an https:// URL")

    def ssl_context(self) -> ssl.SSLContext | None:
        if urlsplit(self.url).scheme != "https":
            return None
        context = ssl.create_default_context(cafile=str(self.ca) if self.ca else None)
        if self.cert is not None and self.key is not None:
            context.load_cert_chain(str(self.cert), str(self.key))
        return context

    def token(self) -> str:
        if self.token_file is None:
            return ""
        try:
            return self.token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as err:
            raise ValueError(f"--prometheus-token-file {self.token_file}: {err}") from err


class Prometheus:
    """An async client of one Prometheus server's HTTP API (only what the console reads)."""

    def __init__(self, settings: PrometheusSettings, timeout: float = 20.0) -> None:
        settings.check()
        self.settings = settings
        self.url = settings.url.rstrip("/")
        self._ssl = settings.ssl_context()
        token = settings.token()
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Prometheus:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def series(
        self, query: str, span: float, step: float | None = None, end: float | None = None
    ) -> list[Series]:
        """`query` evaluated every `step` seconds over the last `span` seconds (to `end`)."""
        end = time.time() if end is None else end
        step = step or step_for(span)
        params = {
            "query": query,
            "start": f"{end - span:.3f}",
            "end": f"{end:.3f}",
            "step": f"{step:g}",
        }
        url = f"{self.url}/api/v1/query_range"
        try:
            async with self._http().post(url, data=params, ssl=self._ssl or True) as response:
                if response.status in (401, 403):
                    raise PrometheusError(
                        f"{self.url} refused the console ({response.status}): check "
                        "--prometheus-token-file or the client certificate"
                    )
                try:
                    body = await response.json(content_type=None)
                except ValueError as err:
                    raise PrometheusError(
                        f"{self.url} answered {response.status} without JSON: is it Prometheus?"
                    ) from err
        except (aiohttp.ClientError, TimeoutError, ssl.SSLError) as err:
            raise PrometheusError(f"cannot reach Prometheus at {self.url}: {err}") from err
        return parse_matrix(body)


def add_prometheus_arguments(parser: argparse.ArgumentParser) -> None:
    """The console's flags for Prometheus (history plots, trends)."""
    parser.add_argument(
        "--prometheus",
        metavar="URL",
        help="Prometheus that scrapes the hub (e.g. http://127.0.0.1:9090): history plots",
    )
    parser.add_argument("--prometheus-ca", type=Path, help="CA bundle for an https Prometheus")
    parser.add_argument("--prometheus-cert", type=Path, help="client certificate for Prometheus")
    parser.add_argument("--prometheus-key", type=Path, help="the client certificate's key")
    parser.add_argument(
        "--prometheus-token-file", type=Path, help="file holding a bearer token for Prometheus"
    )


def prometheus_from(args: argparse.Namespace) -> Prometheus | None:
    """The client the flags ask for, or None without --prometheus; ValueError names the flag."""
    if not args.prometheus:
        for flag in ("ca", "cert", "key", "token_file"):
            if getattr(args, f"prometheus_{flag}", None) is not None:
                name = "--prometheus-" + flag.replace("_", "-")
                raise ValueError(f"{name} needs --prometheus URL")
        return None
    settings = PrometheusSettings(
        args.prometheus,
        args.prometheus_ca,
        args.prometheus_cert,
        args.prometheus_key,
        args.prometheus_token_file,
    )
    try:
        return Prometheus(settings)
    except ssl.SSLError as err:
        raise ValueError(f"--prometheus-cert/--prometheus-key: {err}") from err
