"""The console's history client against a real Prometheus (Debian's `prometheus`): 30 days of
recorded series backfilled with promtool, read back over 1 h and 30 d; a bad query and a
server that wants a client certificate."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from console.client.history import (
    RANGES,
    Prometheus,
    PrometheusError,
    PrometheusSettings,
    step_for,
)
from console.client.history_charts import BY_KEY
from console.security.pki import CertificateAuthority
from tests.e2e.conftest import free_port
from tests.e2e.test_prometheus import get, wait_for
from tests.observability.conftest import run_promtool

pytestmark = pytest.mark.slow
DAY = 86400
NOW = int(time.time()) // 60 * 60
UTIL = BY_KEY["util_level"].query


def backfill(promtool: str, tmp: Path) -> Path:
    """30 days of utilisation by level, a point every 10 minutes: the city at 40 %, the
    county climbing from 10 % to 40 % over the month."""
    lines = [f"# TYPE {UTIL} gauge"]
    start = NOW - 30 * DAY
    for t in range(start, NOW - 600, 600):
        lines.append(f'{UTIL}{{level="city"}} 0.4 {t}')
    for t in range(start, NOW - 600, 600):
        county = 0.1 + 0.3 * (t - start) / (30 * DAY)
        lines.append(f'{UTIL}{{level="county"}} {county:.6f} {t}')
    lines.sort(key=lambda line: 0 if line.startswith("#") else 1 if "city" in line else 2)
    source = tmp / "history.om"
    source.write_text("\n".join([*lines, "# EOF", ""]), encoding="utf-8")
    tsdb = tmp / "tsdb"
    run_promtool(
        promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=768h",
        str(source), str(tsdb),
    )  # fmt: skip
    return tsdb


def serve(prometheus: str, tmp: Path, tsdb: Path, web_config: Path | None = None) -> Iterator[str]:
    port = free_port()
    config = tmp / "prometheus.yml"
    config.write_text(yaml.safe_dump({"global": {"scrape_interval": "1m"}}), encoding="utf-8")
    args = [
        prometheus, f"--config.file={config}", f"--storage.tsdb.path={tsdb}",
        f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=60d",
    ]  # fmt: skip
    if web_config is not None:
        args.append(f"--web.config.file={web_config}")
    log = tmp / "prometheus.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=tmp)
    scheme = "https" if web_config else "http"
    try:

        def started() -> bool:
            if popen.poll() is not None:
                raise AssertionError(f"prometheus exited:\n{log.read_text(errors='replace')}")
            return "Server is ready to receive web requests" in log.read_text(errors="replace")

        wait_for(started, "prometheus to start")
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        popen.terminate()
        popen.wait(timeout=30)


@pytest.fixture
def backfilled(promtool: str, prometheus: str, tmp_path: Path) -> Iterator[str]:
    tsdb = backfill(promtool, tmp_path)
    yield from serve(prometheus, tmp_path, tsdb)


async def test_a_month_of_utilisation_by_level_reads_back(backfilled: str) -> None:
    wait_for(lambda: "Ready" in get(f"{backfilled}/-/ready"), "prometheus to be ready")
    async with Prometheus(PrometheusSettings(backfilled)) as client:
        month = await client.series(UTIL, RANGES["30d"], end=NOW)
        hour = await client.series(UTIL, RANGES["1h"], end=NOW)
    assert {s.labels["level"] for s in month} == {"city", "county"}
    county = next(s for s in month if s.labels["level"] == "county")
    step = step_for(RANGES["30d"])
    assert step == 10800  # 240 points over 30 days
    assert 230 <= len(county.points) <= 241
    assert county.points[0][1] < 0.15 and county.points[-1][1] > 0.35  # the climb is there
    city = next(s for s in hour if s.labels["level"] == "city")
    assert {round(v, 6) for _, v in city.points} == {0.4}
    assert all(NOW - 3600 <= t <= NOW for t, _ in city.points)


async def test_a_bad_query_names_what_prometheus_said(backfilled: str) -> None:
    wait_for(lambda: "Ready" in get(f"{backfilled}/-/ready"), "prometheus to be ready")
    async with Prometheus(PrometheusSettings(backfilled)) as client:
        with pytest.raises(PrometheusError, match="parse error"):
            await client.series("sum by (level (", 3600)


async def test_prometheus_over_mutual_tls(promtool: str, prometheus: str, tmp_path: Path) -> None:
    ca = CertificateAuthority.init(tmp_path / "ca")
    ca_file = tmp_path / "ca" / "ca.crt"
    server_cert, server_key = ca.issue("hub", "prometheus", hosts=("127.0.0.1",)).write(
        tmp_path / "tls", "prometheus"
    )
    client_cert, client_key = ca.issue("user", "console").write(tmp_path / "tls", "console")
    web = tmp_path / "web.yml"
    web.write_text(
        yaml.safe_dump(
            {
                "tls_server_config": {
                    "cert_file": str(server_cert),
                    "key_file": str(server_key),
                    "client_auth_type": "RequireAndVerifyClientCert",
                    "client_ca_file": str(ca_file),
                }
            }
        ),
        encoding="utf-8",
    )
    tsdb = backfill(promtool, tmp_path)
    for url in serve(prometheus, tmp_path, tsdb, web):
        settings = PrometheusSettings(url, ca=ca_file, cert=client_cert, key=client_key)
        async with Prometheus(settings) as client:
            found = await client.series(UTIL, RANGES["1h"], end=NOW)
        assert {s.labels["level"] for s in found} == {"city", "county"}
        async with Prometheus(PrometheusSettings(url, ca=ca_file)) as anonymous:
            with pytest.raises(PrometheusError, match="cannot reach Prometheus"):
                await anonymous.series(UTIL, RANGES["1h"], end=NOW)
