"""A real Prometheus on loopback scrapes a real hub and agent, and alerts when the agent stops.

The server and promtool are Debian's `prometheus` package (installed by ./dev test). The
rules are the chart's own file with every `for:` shortened, so the alert fires in seconds.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import Launcher, Proc, free_port
from tests.observability.conftest import RULES, run_promtool, tool

pytestmark = pytest.mark.slow
NODE = "gz-tianhe-test-01"


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


def api(base: str, path: str, **params: str) -> Any:
    query = "?" + urllib.parse.urlencode(params) if params else ""
    body = json.loads(get(f"{base}/api/v1/{path}{query}"))
    assert body["status"] == "success", body
    return body["data"]


def wait_for(probe: Any, what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except OSError as err:  # not listening yet
            last = err
        else:
            if last:
                return last
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def rules_with_short_for(tmp_path: Path) -> Path:
    """The chart's rules with every `for:` at 2 s (the expressions are untouched)."""
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    for group in rules["groups"]:
        group["interval"] = "1s"
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = "2s"
    path = tmp_path / "alerts-fast.yaml"
    path.write_text(yaml.safe_dump(rules, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def start_prometheus(binary: str, tmp: Path, launch: Launcher, targets: dict[str, int]) -> str:
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "900ms", "evaluation_interval": "1s"},
        "rule_files": [str(rules_with_short_for(tmp))],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{target}"]}]}
            for job, target in targets.items()
        ],
    }
    config_file = tmp / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
    log = tmp / "prometheus.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            [
                binary,
                f"--config.file={config_file}",
                f"--storage.tsdb.path={tmp / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=1h",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp,
        )
    launch.procs.append(Proc(popen, log))
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if popen.poll() is not None:
            raise AssertionError(f"prometheus exited:\n{log.read_text(errors='replace')}")
        return "Ready" in get(f"{base}/-/ready")

    wait_for(ready, "prometheus to be ready")
    return base


def alert_states(base: str, name: str) -> set[str]:
    return {a["state"] for a in api(base, "alerts")["alerts"] if a["labels"]["alertname"] == name}


def test_prometheus_scrapes_hub_and_agent_and_fires_agent_down(
    launch: Launcher, tmp_path: Path
) -> None:
    prometheus = tool("prometheus")
    promtool = tool("promtool")
    hub = launch.hub()
    agent_port = free_port()
    agent = launch.agent(hub.address, metrics_port=agent_port)

    # promtool lints the real /metrics of both, once the node has reported.
    wait_for(lambda: f'node="{NODE}"' in get(f"http://127.0.0.1:{agent_port}/metrics"), "agent")
    wait_for(lambda: 'state="ready"' in get(f"http://127.0.0.1:{hub.metrics_port}/metrics"), "hub")
    for port in (agent_port, hub.metrics_port):
        run_promtool(promtool, "check", "metrics", stdin=get(f"http://127.0.0.1:{port}/metrics"))

    base = start_prometheus(
        prometheus,
        tmp_path,
        launch,
        {"tongchou-hub": hub.metrics_port, "tongchou-agent": agent_port},
    )

    def node_series() -> list[Any]:
        result: list[Any] = api(base, "query", query=f'tongchou_node_cpu_cores{{node="{NODE}"}}')[
            "result"
        ]
        return result

    (series,) = wait_for(node_series, "the node's series in Prometheus")
    labels = series["metric"]
    assert labels["job"] == "tongchou-agent"
    assert (labels["cluster"], labels["division"], labels["level"]) == (
        "gz-tianhe-a", "440106", "county",
    )  # fmt: skip
    assert float(series["value"][1]) >= 1

    ready = wait_for(
        lambda: api(base, "query", query='tongchou_hub_nodes{state="ready"}')["result"],
        "the hub's node count",
    )
    assert [r["metric"]["cluster"] for r in ready] == ["gz-tianhe-a"]
    # The recording rules run on the hub's series.
    wait_for(
        lambda: api(base, "query", query="level:tongchou_hub_cpu_cores:sum")["result"],
        "the per-level recording rule",
    )
    assert alert_states(base, "TongchouAgentDown") == set()

    agent.stop(signal.SIGTERM)
    wait_for(lambda: alert_states(base, "TongchouAgentDown"), "TongchouAgentDown to be pending")
    wait_for(
        lambda: "firing" in alert_states(base, "TongchouAgentDown"), "TongchouAgentDown to fire"
    )
    (alert,) = [
        a for a in api(base, "alerts")["alerts"] if a["labels"]["alertname"] == "TongchouAgentDown"
    ]
    assert alert["labels"]["instance"] == f"127.0.0.1:{agent_port}"
    assert alert["labels"]["severity"] == "warning"
    assert alert["annotations"]["runbook_url"].endswith("#tongchouagentdown")
    # The hub stops hearing from the node too: the stale-node alert follows.
    wait_for(
        lambda: "firing" in alert_states(base, "TongchouNodeStale"), "TongchouNodeStale to fire"
    )
