"""The Helm chart lints and renders without a cluster, with default values and every option on.

Rendering uses Helm's own Go SDK through helm-python-sdk (no helm binary, no cluster). Every
rendered object must parse, be of a known apiVersion/kind, and run with resource requests and
a locked-down security context; the hub's flags and the agent's environment are read back by
the real `tongchou hub` and `tongchou agent` parsers.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

from agent.config import build as agent_settings
from console.hub.cli import add_arguments as hub_arguments
from console.hub.cli import config_from as hub_config
from tests.observability.conftest import CHART, ROOT, RULES

ALL_ON = CHART / "ci" / "all-on-values.yaml"
KNOWN = {
    ("apps/v1", "Deployment"),
    ("apps/v1", "DaemonSet"),
    ("v1", "Service"),
    ("v1", "ServiceAccount"),
    ("v1", "ConfigMap"),
    ("v1", "PersistentVolumeClaim"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
}
CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding"}
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
Obj = dict[str, Any]


def all_on() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load(ALL_ON.read_text(encoding="utf-8"))
    return values


def render(values: dict[str, Any] | None = None) -> list[Obj]:
    with helm.Chart.load(str(CHART)) as chart:
        manifests = chart.render(values or {}, name="gd", namespace="tongchou", is_install=True)
    objects: list[Obj] = []
    for path, text in sorted(manifests.items()):
        if path.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc is not None:
                assert isinstance(doc, dict), f"{path}: not a mapping"
                objects.append(doc)
    return objects


def notes(values: dict[str, Any] | None = None) -> str:
    with helm.Chart.load(str(CHART)) as chart:
        manifests = chart.render(values or {}, name="gd", namespace="tongchou", is_install=True)
    return manifests["tongchou/templates/NOTES.txt"]


def pods(objects: list[Obj]) -> Iterator[tuple[str, Obj]]:
    for obj in objects:
        if obj["kind"] in {"Deployment", "DaemonSet"}:
            yield obj["metadata"]["name"], obj["spec"]["template"]["spec"]


def one(objects: list[Obj], kind: str, suffix: str = "") -> Obj:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"].endswith(suffix)]
    assert len(found) == 1, f"{kind} *{suffix}: {len(found)} objects"
    return found[0]


@pytest.mark.parametrize("values", [None, ALL_ON], ids=["defaults", "all-on"])
def test_the_chart_lints_clean(values: Path | None) -> None:
    given = yaml.safe_load(values.read_text(encoding="utf-8")) if values else None
    report = helm.lint(str(CHART), given, strict=True, kube_version="v1.30.0")
    assert report["errors"] == []
    # Severity 2 is a warning, 3 an error; 1 (info) is only "icon is recommended".
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize("values", [None, ALL_ON], ids=["defaults", "all-on"])
def test_every_object_is_known_and_locked_down(values: Path | None) -> None:
    objects = render(yaml.safe_load(values.read_text(encoding="utf-8")) if values else None)
    assert objects
    for obj in objects:
        kind = (obj["apiVersion"], obj["kind"])
        assert kind in KNOWN, f"unknown {kind}"
        meta = obj["metadata"]
        assert DNS_LABEL.match(meta["name"]) and len(meta["name"]) <= 63, meta["name"]
        if obj["kind"] in CLUSTER_SCOPED:
            assert "namespace" not in meta, meta["name"]
        else:
            assert meta["namespace"] == "tongchou", meta["name"]
        assert meta["labels"]["app.kubernetes.io/instance"] == "gd"
    for name, pod in pods(objects):
        ctx = pod["securityContext"]
        assert ctx["runAsNonRoot"] is True and ctx["runAsUser"] > 0, name
        assert ctx["seccompProfile"]["type"] == "RuntimeDefault", name
        for container in pod["containers"]:
            requests = container["resources"]["requests"]
            assert requests["cpu"] and requests["memory"], name
            assert container["resources"]["limits"]["memory"], name
            sec = container["securityContext"]
            assert sec["readOnlyRootFilesystem"] is True, name
            assert sec["allowPrivilegeEscalation"] is False, name
            assert sec["capabilities"]["drop"] == ["ALL"], name
            assert "privileged" not in sec, name


def test_defaults_render_the_hub_with_its_store_and_no_agents() -> None:
    objects = render()
    kinds = sorted(o["kind"] for o in objects)
    assert kinds == [
        "Deployment", "NetworkPolicy", "PersistentVolumeClaim", "PersistentVolumeClaim",
        "Service", "ServiceAccount",
    ]  # fmt: skip
    hub = one(objects, "Deployment")
    volumes = {v["name"]: v for v in hub["spec"]["template"]["spec"]["volumes"]}
    assert volumes["store"]["persistentVolumeClaim"]["claimName"] == "gd-tongchou-hub"
    # the audit key and witness on a claim of their own, apart from the store
    assert volumes["audit"]["persistentVolumeClaim"]["claimName"] == "gd-tongchou-hub-audit"
    assert hub["spec"]["strategy"]["type"] == "Recreate"
    assert "agent.enabled is false" in notes()


def test_every_option_on_renders_every_kind() -> None:
    objects = render(all_on())
    assert {(o["apiVersion"], o["kind"]) for o in objects} == KNOWN
    for role in (o for o in objects if o["kind"] == "ClusterRole"):
        for rule in role["rules"]:
            assert "*" not in rule["verbs"] and "secrets" not in rule["resources"]
    monitors = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ServiceMonitor"}
    assert set(monitors) == {"gd-tongchou-hub", "gd-tongchou-agent"}
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
    for name, monitor in monitors.items():
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        # The scrape job is named by the Service's label, as the alert rules expect.
        job = services[name]["metadata"]["labels"][monitor["spec"]["jobLabel"]]
        assert job == "tongchou-" + name.rsplit("-", 1)[1]
        selector = monitor["spec"]["selector"]["matchLabels"]
        assert selector.items() <= services[name]["metadata"]["labels"].items()


def test_the_prometheus_rule_is_the_rules_file_itself() -> None:
    rule = one(render(all_on()), "PrometheusRule")
    assert rule["spec"] == yaml.safe_load(RULES.read_text(encoding="utf-8"))


def test_the_hub_runs_with_flags_tongchou_hub_accepts() -> None:
    hub = one(render(all_on()), "Deployment")
    container = hub["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][0] == "hub"
    parser = argparse.ArgumentParser()
    hub_arguments(parser)
    args = parser.parse_args(container["args"][1:])
    assert str(args.store) == "/var/lib/tongchou/hub.db"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/var/lib/tongchou", "/etc/tongchou/documents", "/etc/tongchou/policies"} <= mounts
    assert args.fleet == [Path("/etc/tongchou/documents/fleet.yaml")]
    assert (args.tls_ca, args.tls_cert, args.tls_key) == (
        Path("/etc/tongchou/tls/ca.crt"), Path("/etc/tongchou/tls/tls.crt"),
        Path("/etc/tongchou/tls/tls.key"),
    )  # fmt: skip
    assert "/etc/tongchou/tls" in mounts
    assert args.audit_key == Path("/var/lib/tongchou-audit/audit-key")
    assert args.audit_witness == Path("/var/lib/tongchou-audit/audit-key.witness")
    assert "/var/lib/tongchou-audit" in mounts
    assert args.metrics_tls_cert == Path("/etc/tongchou/tls/tls.crt")
    assert args.metrics_client_ca == Path("/etc/tongchou/tls/ca.crt")
    assert (args.ca_dir, args.token_listen) == (Path("/etc/tongchou/ca"), "0.0.0.0:7471")
    # the policy files and the certificates exist only in the pod
    args.policies = []
    args.tls_ca = args.tls_cert = args.tls_key = None
    args.metrics_tls_cert = args.metrics_tls_key = args.metrics_client_ca = None
    args.token_listen = ""
    args.insecure = True
    assert args.kubeconfig == Path("/etc/tongchou/kube/config")
    assert "/etc/tongchou/kube" in mounts
    args.kubeconfig = None  # the Secret exists only in the pod too
    config = hub_config(args)
    assert (config.report_interval, config.lost_after) == (15.0, 180.0)
    assert config.health_listen == "0.0.0.0:7472"
    assert not config.guardrails_off  # the built-in compliance guardrails stay on
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"grpc": 7470, "metrics": 9470, "health": 7472, "join": 7471}
    # the kubelet has no client certificate: the probes use /healthz, not the gRPC port
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "health"}


def test_the_agent_reads_the_host_read_only_on_every_node() -> None:
    objects = render(all_on())
    daemonset = one(objects, "DaemonSet")
    pod = daemonset["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True and pod["dnsPolicy"] == "ClusterFirstWithHostNet"
    assert pod["automountServiceAccountToken"] is False
    assert {"operator": "Exists"} in pod["tolerations"]
    (container,) = pod["containers"]
    host_paths = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"] if "hostPath" in v}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert host_paths == {
        "host-proc": "/proc", "host-sys": "/sys", "host-os-release": "/etc/os-release",
        "state": "/var/lib/tongchou-agent",  # the node's own key, written by the agent
    }  # fmt: skip
    for path in ("/host/proc", "/host/sys", "/host/etc/os-release"):
        assert mounts[path]["readOnly"] is True
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["TONGCHOU_HOST_ROOT"] == "/host"
    assert env["TONGCHOU_HUB"] == "gd-tongchou-hub.tongchou.svc:7470"
    # The real agent takes these settings (its host root here is this machine's).
    settings = {k: v for k, v in env.items() if k.startswith("TONGCHOU_") and v is not None}
    settings.update(TONGCHOU_HOST_ROOT="/", TONGCHOU_NODE="worker-1")
    config = agent_settings(environ=settings)
    config.require_identity()
    config.require_transport()
    assert config.tls_cert == "/var/lib/tongchou-agent/node.crt"
    assert config.join_hub == "gd-tongchou-hub.tongchou.svc:7471"
    assert (config.division, config.level, config.cluster) == ("440106", "county", "tianhe-gov-a")
    assert config.labels == {"department": "数字政府运营中心", "rack": "B-03"}
    requests = container["resources"]["requests"]
    assert (requests["cpu"], requests["memory"]) == ("20m", "64Mi")


def test_agents_without_an_identity_are_refused_by_name() -> None:
    with pytest.raises(helm.HelmError, match=r"agent\.identity\.division is required"):
        render({"agent": {"enabled": True}})


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"agent": {"identity": {"mlpsLevel": 5}}}, "mlpsLevel"),
        ({"agent": {"identity": {"division": "4401"}}}, "division"),
        ({"hub": {"persistence": {"size": "lots"}}}, "size"),
        ({"hub": {"replicas": 0}}, "replicas"),
        ({"hub": {"resources": {"requests": {"cpu": "lots"}}}}, "cpu"),
    ],
)
def test_the_schema_names_a_bad_value(values: dict[str, Any], where: str) -> None:
    with helm.Chart.load(str(CHART)) as chart, pytest.raises(helm.HelmError, match=where):
        chart.validate_schema(chart.merge_values(values))


def leaves(values: dict[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and key not in {"resources", "podSecurityContext"}:
            if key == "containerSecurityContext":
                yield path
                continue
            yield from leaves(value, path + ".")
        else:
            yield path


def test_every_value_is_documented() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    doc = (ROOT / "docs" / "helm.md").read_text(encoding="utf-8")
    missing = [path for path in leaves(values) if f"`{path}`" not in doc]
    assert missing == []


def test_the_image_runs_tongchou_as_the_charts_user() -> None:
    """deploy/Dockerfile builds the image the chart names: entrypoint and user agree."""
    lines = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8").splitlines()
    instructions = dict(
        line.split(" ", 1) for line in lines if line and not line.startswith("#")
    )  # the last of each kind wins, as in Docker
    assert yaml.safe_load(instructions["ENTRYPOINT"]) == ["tongchou"]
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    pod = values["podSecurityContext"]
    assert instructions["USER"] == f"{pod['runAsUser']}:{pod['runAsGroup']}"
    for container in render(all_on()):
        if container["kind"] == "Deployment":
            args = container["spec"]["template"]["spec"]["containers"][0]["args"]
            assert args[0] == "hub"  # appended to the entrypoint: `tongchou hub …`


def test_mutual_tls_by_default_and_each_agent_pod_holds_only_its_own_key() -> None:
    values = all_on()
    values["tls"] = {"enabled": True}  # the Secrets' default names
    values["agent"]["join"] = {"enabled": True}
    objects = render(values)
    hub = one(objects, "Deployment")["spec"]["template"]["spec"]
    args = hub["containers"][0]["args"]
    assert "--tls-cert=/etc/tongchou/tls/tls.crt" in args and "--insecure" not in args
    secrets = {v["name"]: v["secret"]["secretName"] for v in hub["volumes"] if "secret" in v}
    assert secrets == {
        "tls": "gd-tongchou-hub-tls", "ca": "gd-tongchou-ca", "kubeconfig": "gd-clusters-kubeconfig"
    }  # fmt: skip
    # joining: the pod makes its own key on its node and sees only its own join token
    agent = one(objects, "DaemonSet")["spec"]["template"]["spec"]
    (container,) = agent["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["TONGCHOU_TLS_KEY"] == "/var/lib/tongchou-agent/node.key"
    assert "TONGCHOU_INSECURE" not in env
    secrets = {v["name"]: v["secret"]["secretName"] for v in agent["volumes"] if "secret" in v}
    assert secrets == {"join": "gd-tongchou-agent-join"}
    mounts = [m for m in container["volumeMounts"] if m["name"] == "join"]
    assert {m.get("subPath") or m.get("subPathExpr") for m in mounts} == {
        "ca.crt",
        "$(TONGCHOU_NODE).yaml",
    }
    state = next(v for v in agent["volumes"] if v["name"] == "state")
    assert state["hostPath"] == {"path": "/var/lib/tongchou-agent", "type": "Directory"}
    # issued pairs: still only the pod's own pair and the CA, never the whole Secret
    values["agent"]["join"] = {"enabled": False}
    agent = one(render(values), "DaemonSet")["spec"]["template"]["spec"]
    (container,) = agent["containers"]
    mounts = [m for m in container["volumeMounts"] if m["name"] == "tls"]
    assert all("subPath" in m or "subPathExpr" in m for m in mounts)
    assert {m.get("subPath") or m.get("subPathExpr") for m in mounts} == {
        "ca.crt",
        "$(TONGCHOU_NODE).crt",
        "$(TONGCHOU_NODE).key",
    }


def test_the_hubs_metrics_are_scraped_over_tls() -> None:
    monitor = one(render(all_on()), "ServiceMonitor", "-hub")
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["scheme"] == "https"
    assert endpoint["tlsConfig"]["serverName"] == "gd-tongchou-hub.tongchou.svc"
    assert endpoint["tlsConfig"]["keySecret"]["name"] == "gd-tongchou-prometheus-tls"


def test_plaintext_only_when_asked_for() -> None:
    values = all_on()
    values["tls"] = {"enabled": False}
    values["insecure"] = True
    objects = render(values)
    args = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--insecure" in args and not any(a.startswith("--tls") for a in args)
    agent = one(objects, "DaemonSet")["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "TONGCHOU_INSECURE", "value": "true"} in agent["env"]
    with pytest.raises(helm.HelmError, match="set insecure: true to run without TLS"):
        render({"tls": {"enabled": False}})
    with pytest.raises(helm.HelmError, match="one transport or the other"):
        render({"insecure": True})


def test_the_guardrails_are_off_only_when_asked_by_name() -> None:
    def args(values: dict[str, Any]) -> list[str]:
        hub = one(render(values), "Deployment")
        return list(hub["spec"]["template"]["spec"]["containers"][0]["args"])

    assert "--unsafe-no-guardrails" not in args({}) + args(all_on())
    assert "--unsafe-no-guardrails" in args({"hub": {"unsafeNoGuardrails": True}})


def granted(role: Obj) -> set[tuple[str, str, str]]:
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


# What console/executor/calls.py does in a cluster (docs/executor.md, "Permissions").
EXECUTOR_CALLS = {
    (group, resource, verb)
    for group, resource in [("", "namespaces"), ("", "resourcequotas"), ("apps", "deployments")]
    for verb in ["get", "list", "create", "patch", "update", "delete"]
}


def test_the_executor_gets_the_rights_it_uses_and_no_more() -> None:
    values = all_on()
    values["rbac"]["namespaceInventory"] = False
    objects = render(values)
    role = one(objects, "ClusterRole")
    assert granted(role) == EXECUTOR_CALLS
    binding = one(objects, "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "gd-tongchou-hub", "namespace": "tongchou"}
    ]
    pod = one(objects, "Deployment", "-hub")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is True
    args = pod["containers"][0]["args"]
    assert "--kubeconfig=/etc/tongchou/kube/config" in args
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["kubeconfig"]["secret"]["secretName"] == "gd-clusters-kubeconfig"


def test_the_namespace_inventory_is_a_separate_choice() -> None:
    role = one(render(all_on()), "ClusterRole")
    assert granted(role) - EXECUTOR_CALLS == {("*", "*", "list")}


def test_without_the_executor_the_hub_has_no_rights_in_the_cluster() -> None:
    objects = render()
    assert not [o for o in objects if o["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    pod = one(objects, "Deployment", "-hub")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert not [a for a in pod["containers"][0]["args"] if a.startswith("--kubeconfig")]


def test_the_executor_needs_its_kubeconfig() -> None:
    with pytest.raises(Exception, match="kubeconfigSecret"):
        render({"hub": {"executor": {"enabled": True}}})
