"""The demo's Prometheus (Debian's `prometheus`): it starts with the chart's rules loaded, and
one left running by a demo killed with SIGKILL is ended by the next demo on the same folder."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from console import demo_prometheus
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.slow


def rule_groups(url: str) -> set[str]:
    with urllib.request.urlopen(f"{url}/api/v1/rules", timeout=5) as response:
        body = json.loads(response.read())
    return {group["name"] for group in body["data"]["groups"]}


async def test_a_left_over_prometheus_is_replaced(prometheus: str, tmp_path: Path) -> None:
    folder = tmp_path / "prometheus"
    first = await demo_prometheus.start(folder, f"127.0.0.1:{free_port()}", "127.0.0.1:1", 1.0)
    assert not isinstance(first, str), first
    try:
        assert {"tongchou.recording", "tongchou.history", "tongchou.alerts"} <= rule_groups(
            first.url
        )
        # the demo that started it is gone without stopping it; the next one takes over
        second = await demo_prometheus.start(folder, f"127.0.0.1:{free_port()}", "127.0.0.1:1", 1.0)
        assert not isinstance(second, str), f"{second}\n{first.log.read_text()}"
        try:
            assert await first.process.wait() == 0  # ended by SIGTERM, cleanly
            assert "tongchou.history" in rule_groups(second.url)
        finally:
            await second.stop()
    finally:
        await first.stop()


async def test_a_port_another_prometheus_holds_is_said(prometheus: str, tmp_path: Path) -> None:
    listen = f"127.0.0.1:{free_port()}"
    first = await demo_prometheus.start(tmp_path / "a", listen, "127.0.0.1:1", 1.0)
    assert not isinstance(first, str), first
    try:
        second = await demo_prometheus.start(tmp_path / "b", listen, "127.0.0.1:1", 1.0)
        assert isinstance(second, str)
        assert second.startswith(f"Prometheus did not start on {listen} (its log: ")
    finally:
        await first.stop()
