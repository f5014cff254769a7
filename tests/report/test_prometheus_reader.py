"""The report's Prometheus reader over HTTP: the query_range it sends (the newest point at
the window's end, a bearer token when given), the series it reads, and the errors it says."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from console.report.prometheus import Prometheus, PrometheusError

END = datetime(2026, 11, 30, 12, tzinfo=UTC)
WINDOW = (END - timedelta(days=29, hours=20), END)


@pytest.fixture
async def server() -> AsyncIterator[tuple[TestServer, list[web.Request]]]:
    seen: list[web.Request] = []

    async def query_range(request: web.Request) -> web.Response:
        seen.append(request)
        if "bad" in request.query["query"]:
            return web.json_response(
                {"status": "error", "errorType": "bad_data", "error": "parse error at char 3"},
                status=400,
            )
        end = float(request.query["end"])
        values = [[end - 3600, "0.25"], [end, "0.5"]]
        return web.json_response(
            {
                "status": "success",
                "data": {
                    "resultType": "matrix",
                    "result": [
                        {"metric": {"level": "county"}, "values": values},
                        {"metric": {"level": "city"}, "values": values[1:]},
                    ],
                },
            }
        )

    app = web.Application()
    app.add_routes([web.get("/api/v1/query_range", query_range)])
    test_server = TestServer(app)
    await test_server.start_server()
    try:
        yield test_server, seen
    finally:
        await test_server.close()


async def test_series_by_label_with_the_newest_point_at_the_end(
    server: tuple[TestServer, list[web.Request]],
) -> None:
    test_server, seen = server
    prometheus = Prometheus(str(test_server.make_url("")).rstrip("/"), token="s3cret")
    async with aiohttp.ClientSession() as session:
        series = await prometheus.query_range(session, "up", "level", WINDOW)
    assert [s.label for s in series] == ["city", "county"]
    assert series[1].values == [0.25, 0.5]
    assert series[1].times[-1] == END
    (request,) = seen
    assert request.headers["Authorization"] == "Bearer s3cret"
    assert float(request.query["end"]) == END.timestamp()
    step = int(request.query["step"].removesuffix("s"))
    assert step == int((WINDOW[1] - WINDOW[0]).total_seconds() // 240)
    assert (float(request.query["end"]) - float(request.query["start"])) % step == 0


async def test_a_refused_query_names_the_url_and_prometheus_words(
    server: tuple[TestServer, list[web.Request]],
) -> None:
    test_server, _seen = server
    prometheus = Prometheus(str(test_server.make_url("")).rstrip("/"))
    async with aiohttp.ClientSession() as session:
        with pytest.raises(
            PrometheusError, match=re.escape("query_range: bad{: parse error at char 3")
        ):
            await prometheus.query_range(session, "bad{", "", WINDOW)


async def test_a_prometheus_that_is_not_there_is_said() -> None:
    prometheus = Prometheus("http://127.0.0.1:9")
    with pytest.raises(PrometheusError, match=r"http://127\.0\.0\.1:9/api/v1/query_range: "):
        await prometheus.history(WINDOW)
