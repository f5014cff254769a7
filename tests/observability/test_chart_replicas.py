"""The chart's hub replicas on a PostgreSQL store: lint, render, Secret, PDB, anti-affinity."""

from __future__ import annotations

import argparse
from typing import Any

import helm_python as helm
import pytest
import yaml

from console.hub.cli import add_arguments as hub_arguments
from console.store.cli_options import store_target
from tests.observability.conftest import CHART
from tests.observability.test_chart import DNS_LABEL, one, render

REPLICAS = CHART / "ci" / "replicas-values.yaml"


def replicas() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load(REPLICAS.read_text(encoding="utf-8"))
    return values


def test_the_replica_values_lint_clean() -> None:
    report = helm.lint(str(CHART), replicas(), strict=True, kube_version="v1.30.0")
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_replicas_share_the_store_from_a_secret() -> None:
    objects = render(replicas())
    kinds = sorted(o["kind"] for o in objects)
    assert "PersistentVolumeClaim" not in kinds
    hub = one(objects, "Deployment")
    spec = hub["spec"]
    assert spec["replicas"] == 3
    assert spec["strategy"]["type"] == "RollingUpdate"
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    args = container["args"]
    assert "--store-password-file=/etc/tongchou/store/password" in args
    assert not [a for a in args if a.startswith("--store=")]
    env = {e["name"]: e for e in container["env"]}
    assert env["TONGCHOU_STORE"]["valueFrom"]["secretKeyRef"] == {
        "name": "gd-tongchou-store",
        "key": "url",
    }
    assert env["TONGCHOU_HUB_REPLICA"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert not any("password" in str(e.get("value", "")) for e in container["env"])
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "store" not in volumes
    secret = volumes["store-password"]["secret"]
    assert secret["secretName"] == "gd-tongchou-store"
    assert secret["items"] == [{"key": "password", "path": "password"}]
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert mounts["store-password"]["readOnly"] is True
    # mutual TLS: one audit key for every replica, from its Secret; a witness per pod
    key = volumes["audit-key"]["secret"]
    assert key["secretName"] == "gd-tongchou-audit-key" and key["defaultMode"] == 0o400
    assert key["items"] == [{"key": "audit-key", "path": "audit-key"}]
    assert mounts["audit-key"]["readOnly"] is True and "emptyDir" in volumes["audit"]
    assert "--audit-key=/etc/tongchou/audit-key/audit-key" in args
    assert "--tls-ca=/etc/tongchou/tls/ca.crt" in args and "--insecure" not in args


def test_replicas_have_a_disruption_budget_and_spread() -> None:
    objects = render(replicas())
    pdb = one(objects, "PodDisruptionBudget")
    assert pdb["apiVersion"] == "policy/v1"
    assert DNS_LABEL.match(pdb["metadata"]["name"])
    assert pdb["spec"]["minAvailable"] == 2
    hub = one(objects, "Deployment")
    labels = hub["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    anti = hub["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    terms = anti["preferredDuringSchedulingIgnoredDuringExecution"]
    assert [t["podAffinityTerm"]["topologyKey"] for t in terms] == [
        "kubernetes.io/hostname",
        "topology.kubernetes.io/zone",
    ]
    for term in terms:
        assert term["podAffinityTerm"]["labelSelector"]["matchLabels"].items() <= labels.items()


def test_hard_anti_affinity_is_required() -> None:
    values = replicas()
    values["hub"]["antiAffinity"] = "hard"
    hub = one(render(values), "Deployment")
    anti = hub["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    (term,) = anti["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "kubernetes.io/hostname"


def test_one_replica_on_postgresql_has_no_budget() -> None:
    values = replicas()
    values["hub"]["replicas"] = 1
    objects = render(values)
    assert not [o for o in objects if o["kind"] == "PodDisruptionBudget"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"hub": {"replicas": 2}}, "hub.replicas > 1 needs hub.store.type postgresql"),
        (
            {"hub": {"store": {"type": "postgresql"}}, "tls": {"enabled": False}, "insecure": True},
            "needs hub.store.postgresql.existingSecret",
        ),
        (
            {"hub": {"store": {"type": "postgresql", "postgresql": {"existingSecret": "s"}}}},
            "with TLS needs hub.store.postgresql.auditKeySecret",
        ),
    ],
)
def test_replicas_without_a_shared_store_are_refused(values: dict[str, Any], message: str) -> None:
    with pytest.raises(helm.HelmError, match=message):
        render(values)


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"hub": {"store": {"type": "mysql"}}}, "type"),
        ({"hub": {"antiAffinity": "sometimes"}}, "antiAffinity"),
        ({"hub": {"podDisruptionBudget": {"minAvailable": "half"}}}, "minAvailable"),
    ],
)
def test_the_schema_names_a_bad_store_value(values: dict[str, Any], where: str) -> None:
    with helm.Chart.load(str(CHART)) as chart, pytest.raises(helm.HelmError, match=where):
        chart.validate_schema(chart.merge_values(values))


def test_the_defaults_keep_one_sqlite_hub() -> None:
    hub = one(render(), "Deployment")
    assert hub["spec"]["replicas"] == 1
    args = hub["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--store=/var/lib/tongchou/hub.db" in args


def test_replicas_run_with_flags_tongchou_hub_accepts() -> None:
    """The real parser reads the replica's flags; the store comes from $TONGCHOU_STORE."""
    container = one(render(replicas()), "Deployment")["spec"]["template"]["spec"]["containers"][0]
    parser = argparse.ArgumentParser()
    hub_arguments(parser)
    args = parser.parse_args(container["args"][1:])
    assert str(args.store_password_file) == "/etc/tongchou/store/password"
    url = "postgresql://tongchou@pg.example:5432/tongchou"
    assert store_target(args, {"TONGCHOU_STORE": url}) == url
    assert str(args.audit_key) == "/etc/tongchou/audit-key/audit-key"
    assert str(args.audit_witness) == "/var/lib/tongchou-audit/witness"
    assert not args.insecure and str(args.tls_cert) == "/etc/tongchou/tls/tls.crt"
