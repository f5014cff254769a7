"""The history client without a Prometheus: answers parsed, flags checked, errors named, the
bearer token sent (to a plain HTTP server on loopback)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import web

from console.client.history import (
    RANGES,
    Prometheus,
    PrometheusError,
    PrometheusSettings,
    add_prometheus_arguments,
    parse_matrix,
    prometheus_from,
    span_of,
    step_for,
)


def answer(*series: tuple[dict[str, str], list[tuple[float, str]]]) -> dict[str, object]:
    return {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [{"metric": m, "values": [[t, v] for t, v in pts]} for m, pts in series],
        },
    }


def test_a_matrix_becomes_series_without_nan_points() -> None:
    body = answer(({"level": "city"}, [(1.0, "0.5"), (2.0, "NaN"), (3.0, "+Inf"), (4.0, "0.25")]))
    (series,) = parse_matrix(body)
    assert series.labels == {"level": "city"}
    assert series.points == ((1.0, 0.5), (4.0, 0.25))
    assert series.last == 0.25
    assert series.label("provider", "level") == "city"


def test_an_error_answer_says_what_prometheus_said() -> None:
    with pytest.raises(PrometheusError, match="parse error at char 5"):
        parse_matrix({"status": "error", "errorType": "bad_data", "error": "parse error at char 5"})
    with pytest.raises(PrometheusError, match="expected a matrix"):
        parse_matrix({"status": "success", "data": {"resultType": "vector", "result": []}})


def test_spans_and_steps() -> None:
    assert [span_of(name) for name in ("1h", "24h", "7d", "30d")] == list(RANGES.values())
    assert step_for(3600) == 15
    assert step_for(30 * 86400) == 10800
    with pytest.raises(ValueError, match="choose one of 1h, 24h, 7d, 30d"):
        span_of("2w")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--prometheus", "ftp://x"], "--prometheus 'ftp://x': give an http:// or https:// URL"),
        (["--prometheus", "localhost:9090"], "give an http:// or https:// URL"),
        (["--prometheus-ca", "ca.crt"], "--prometheus-ca needs --prometheus URL"),
        (["--prometheus", "https://p:9090", "--prometheus-cert", "c"], "go together"),
        (["--prometheus", "https://p:9090", "--prometheus-ca", "/nonexistent"], "no such file"),
        (["--prometheus", "http://p:9090", "--prometheus-token-file", "/nonexistent"], "token"),
    ],
)
def test_bad_flags_name_the_flag(argv: list[str], message: str) -> None:
    parser = argparse.ArgumentParser()
    add_prometheus_arguments(parser)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        prometheus_from(parser.parse_args(argv))


def test_tls_options_need_an_https_url(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("x", encoding="utf-8")
    with pytest.raises(ValueError, match="TLS options need an https:// URL"):
        PrometheusSettings("http://p:9090", ca=ca).check()


def test_the_console_exits_2_on_a_bad_prometheus_url() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tongchou", "console", "--insecure", "--prometheus", "p:9090"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "--prometheus 'p:9090': give an http:// or https:// URL" in done.stderr


async def test_an_unreachable_prometheus_is_named() -> None:
    client = Prometheus(PrometheusSettings("http://127.0.0.1:1"))
    with pytest.raises(PrometheusError, match=r"cannot reach Prometheus at http://127\.0\.0\.1:1"):
        await client.series("up", 3600)
    await client.close()


async def test_the_bearer_token_is_sent(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret\n", encoding="utf-8")
    seen: list[str] = []

    async def query_range(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        if request.headers.get("Authorization") != "Bearer s3cret":
            return web.Response(status=401)
        form = await request.post()
        assert form["query"] == "up" and form["step"] == "15"
        return web.json_response(answer(({"job": "hub"}, [(1.0, "1")])))

    app = web.Application()
    app.router.add_post("/api/v1/query_range", query_range)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with Prometheus(
            PrometheusSettings(f"http://127.0.0.1:{port}", token_file=token)
        ) as c:
            (series,) = await c.series("up", 3600)
        assert series.points == ((1.0, 1.0),)
        async with Prometheus(PrometheusSettings(f"http://127.0.0.1:{port}")) as anonymous:
            with pytest.raises(PrometheusError, match="refused the console \\(401\\)"):
                await anonymous.series("up", 3600)
    finally:
        await runner.cleanup()
    assert seen == ["Bearer s3cret", ""]
