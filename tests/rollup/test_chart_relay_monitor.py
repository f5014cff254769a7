"""The chart's ServiceMonitor for site relays: Prometheus finds each relay's /metrics through the
relay Service, with job="tongchou-relay" whatever the release is called."""

from __future__ import annotations

from typing import Any

import helm_python as helm

from tests.observability.conftest import CHART
from tests.observability.test_chart import one, render
from tests.relay.test_chart_relay import relay_values


def monitored() -> dict[str, Any]:
    values = relay_values()
    values["serviceMonitor"] = {"enabled": True, "interval": "30s", "scrapeTimeout": "10s"}
    return values


def test_the_relay_release_with_a_servicemonitor_lints_clean() -> None:
    report = helm.lint(str(CHART), monitored(), strict=True, kube_version="v1.30.0")
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_a_servicemonitor_scrapes_the_relays() -> None:
    objects = render(monitored())
    monitor = one(objects, "ServiceMonitor", "-relay")
    service = one(objects, "Service", "-relay")
    selector = monitor["spec"]["selector"]["matchLabels"]
    labels = service["metadata"]["labels"]
    assert selector and all(labels.get(k) == v for k, v in selector.items())
    assert labels[monitor["spec"]["jobLabel"]] == "tongchou-relay"
    [endpoint] = monitor["spec"]["endpoints"]
    assert endpoint["port"] == "metrics"
    assert "metrics" in {p["name"] for p in service["spec"]["ports"]}
    assert monitor["spec"]["namespaceSelector"]["matchNames"] == [service["metadata"]["namespace"]]


def test_no_relay_monitor_without_a_relay() -> None:
    values = monitored()
    values["relay"]["enabled"] = False
    kinds = {(o["kind"], o["metadata"]["name"]) for o in render(values)}
    assert not [name for kind, name in kinds if kind == "ServiceMonitor" and "relay" in name]
