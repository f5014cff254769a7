"""The chart's relay option: a DaemonSet on the gateway nodes (or a Deployment), its Service,
the agents pointed at it, and flags `tongchou relay` accepts."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

from console.relay.cli import add_arguments, config_from
from tests.observability.conftest import CHART
from tests.observability.test_chart import one, pods, render

RELAY = CHART / "ci" / "relay-values.yaml"


def relay_values() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load(RELAY.read_text(encoding="utf-8"))
    return values


def test_the_relay_release_lints_clean() -> None:
    report = helm.lint(str(CHART), relay_values(), strict=True, kube_version="v1.30.0")
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_a_relay_daemonset_on_gateway_nodes_and_agents_reporting_to_it() -> None:
    objects = render(relay_values())
    relay = one(objects, "DaemonSet", "-relay")
    pod = relay["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"gdzwy.gov.cn/gateway": "true"}
    assert pod["automountServiceAccountToken"] is False
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["tls"]["secret"]["secretName"] == "gz-tianhe-relay-tls"
    service = one(objects, "Service", "-relay")
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == {
        "grpc": 7470,
        "metrics": 9472,
    }
    agent = one(objects, "DaemonSet", "-agent")
    env = {
        e["name"]: e.get("value") for e in agent["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["TONGCHOU_HUB"] == "gd-tongchou-relay.tongchou.svc:7470"
    assert not [o for o in objects if o["metadata"]["name"].endswith("-hub")]
    for name, spec in pods(objects):
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        for container in spec["containers"]:
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, name


def test_the_relay_runs_with_flags_tongchou_relay_accepts(tmp_path: Path) -> None:
    relay = one(render(relay_values()), "DaemonSet", "-relay")
    container = relay["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][0] == "relay"
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(container["args"][1:])
    assert args.hub == "hub.gd.gov.example:7470"
    assert (args.buffer, args.batch_max) == (50000, 400)
    assert str(args.tls_cert) == "/etc/tongchou/tls/tls.crt"
    # the certificates exist only in the pod
    args.tls_ca = args.tls_cert = args.tls_key = None
    args.insecure, args.site = True, "gz-tianhe-dc"
    config = config_from(args)
    assert config.upstream.site == "gz-tianhe-dc" and config.buffer == 50000


def test_a_deployment_by_default_and_a_bad_kind_named() -> None:
    values = relay_values()
    del values["relay"]["kind"]
    objects = render(values)
    assert one(objects, "Deployment", "-relay")["spec"]["replicas"] == 1
    values["relay"]["kind"] = "StatefulSet"
    with pytest.raises(Exception, match="/relay/kind"):
        render(values)
