"""`tongchou demo` with Debian's Prometheus: it starts Prometheus with the chart's rules against
its hub, and a console attached to both shows the 1 h plot of utilisation by level within two
minutes of the start; stopping the demo stops Prometheus."""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import time
import urllib.error
from pathlib import Path

import pytest

from console.client.connect import add_client_arguments, open_client
from console.client.history import Prometheus, PrometheusSettings
from console.tui.app import TongchouApp
from console.tui.panes.history import History
from tests.e2e.conftest import Launcher, free_port
from tests.e2e.test_prometheus import get
from tests.observability.conftest import tool
from tests.tui.screen_text import screen_text

# one demo at a time: each starts Prometheus on the demo's default port
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]
LEVELS = {"city", "county"}  # the first 150 nodes of the sample province


def line(demo_text: str, pattern: str) -> re.Match[str] | None:
    return re.search(pattern, demo_text, re.MULTILINE)


async def test_demo_shows_an_hour_of_utilisation_by_level(launch: Launcher, tmp_path: Path) -> None:
    tool("prometheus")
    started = time.monotonic()
    demo = launch.spawn(
        "demo", "demo", "--headless", "--duration", "170s", "--every", "30s", "--limit", "150",
        "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
        "--prometheus-listen", f"127.0.0.1:{free_port()}", "--scrape-interval", "1s",
        "--state-dir", str(tmp_path / "state"), "--no-local-agent",
    )  # fmt: skip
    try:
        deadline = started + 60
        while not (
            (url := line(demo.text(), r"^Prometheus on (\S+) scrapes the hub"))
            and (hint := line(demo.text(), r"A second console: tongchou console (.*)$"))
        ):
            assert time.monotonic() < deadline and demo.popen.poll() is None, demo.text()
            await asyncio.sleep(0.2)
        parser = argparse.ArgumentParser()
        parser.add_argument("--hub")
        add_client_arguments(parser)
        args = parser.parse_args(hint.group(1).split())
        client = open_client(args.hub, args)
        prometheus = Prometheus(PrometheusSettings(url.group(1)))
        app = TongchouApp(client, clock=False, prometheus=prometheus, refresh_every=1.0)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("h")
            pane = app.query_one(History)
            # Done within two minutes of the demo's start: every level drawn with points.
            while time.monotonic() - started < 120:
                drawn = {s.labels.get("level") for s in pane.series if len(s.points) >= 3}
                if drawn >= LEVELS:
                    break
                pane.reload()
                await pilot.pause(2.0)
            after = time.monotonic() - started
            print(f"the 1 h plot of {', '.join(sorted(map(str, drawn)))}: {after:.0f} s")
            screen = "\n".join(screen_text(app))
            assert drawn >= LEVELS, f"{pane.status}\n{screen}\n{demo.text()}"
            assert "CPU utilisation by level (%) · 1h" in screen
            for level in LEVELS:
                assert level in screen
        await prometheus.close()
        await client.close()
    finally:
        code = demo.stop(signal.SIGTERM, timeout=60)
    assert code == 0, demo.text()
    assert "demo stopped" in demo.text()
    with pytest.raises(urllib.error.URLError):  # its Prometheus went with it
        get(f"{url.group(1)}/-/ready")


def test_demo_without_prometheus_says_so(launch: Launcher, tmp_path: Path) -> None:
    launch.env["PATH"] = "/nonexistent"  # no `prometheus` on the PATH
    demo = launch.spawn(
        "demo", "demo", "--headless", "--duration", "1s", "--every", "1s", "--limit", "5",
        "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
        "--state-dir", str(tmp_path / "state"), "--no-local-agent",
    )  # fmt: skip
    assert demo.popen.wait(90) == 0, demo.text()
    assert (
        "tongchou demo: Prometheus is not installed (Debian: apt-get install prometheus): "
        "the console shows no history"
    ) in demo.text()
