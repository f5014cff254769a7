"""The same apply and delete against a real cluster, when one is given.

Set TONGCHOU_TEST_KUBECONFIG to a kubeconfig (and TONGCHOU_TEST_CONTEXT to a context, else
its current one). Use a test cluster: the tests apply in namespace `tc-990000`, then apply
nothing, which removes every object their identity manages in that cluster. Besides apply,
re-apply and delete, they check on the real API server what the emulator models: the
namespace kept while it holds an operator's ConfigMap, another identity's objects left
alone, drift with added privilege replaced, quantities not patched again, Pod Security.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from console.executor.apply import Ownership, apply_cluster
from console.executor.kube import Target, connect
from console.executor.manifests import PlacedWorkload, Style, desired_objects
from console.model.workload import Workload

KUBECONFIG = os.environ.get("TONGCHOU_TEST_KUBECONFIG", "")
pytestmark = pytest.mark.skipif(not KUBECONFIG, reason="TONGCHOU_TEST_KUBECONFIG is not set")

PAUSE = Workload(
    name="tongchou-test-pause", owner="990000", replicas=1, cpu_milli=10,
    memory_bytes=16 * 1024**2, image="registry.k8s.io/pause:3.9", mlps_level=1,
    archs=("x86_64", "aarch64"),
)  # fmt: skip


def _api() -> client.ApiClient:
    path = Path(KUBECONFIG)
    context = os.environ.get("TONGCHOU_TEST_CONTEXT") or str(
        yaml.safe_load(path.read_text(encoding="utf-8")).get("current-context", "")
    )
    return connect(Target("real", context, path))


def _gone(api: client.ApiClient, name: str) -> None:
    """Waits until the namespace is gone (a real one terminates for a while)."""
    core = client.CoreV1Api(api)
    for _ in range(120):
        try:
            core.read_namespace(name)
        except client.ApiException as err:
            if err.status == 404:
                return
            raise
        time.sleep(1)
    raise AssertionError(f"namespace {name} still there after 120 s")


def test_apply_is_idempotent_and_delete_leaves_nothing() -> None:
    api = _api()
    wanted = desired_objects([PlacedWorkload(PAUSE, {"real": 1}, generation=1)], ["real"])
    first = apply_cluster("real", api, wanted["real"])
    assert first.error is None, first.error
    assert first.refused == []
    again = apply_cluster("real", api, wanted["real"])
    assert again.error is None, again.error
    assert (again.created, again.updated, again.deleted) == ([], [], [])
    gone = apply_cluster("real", api, [])
    assert gone.error is None, gone.error
    assert "Deployment tc-990000/tongchou-test-pause" in gone.deleted
    _gone(api, "tc-990000")


def test_real_server_keeps_what_is_not_ours_and_undoes_drift() -> None:
    api = _api()
    mine, theirs = Ownership("tongchou-test-a"), Ownership("tongchou-test-b")
    placed = [PlacedWorkload(PAUSE, {"real": 1}, generation=1)]
    wanted = desired_objects(placed, ["real"], Style(identity=mine.identity))["real"]
    first = apply_cluster("real", api, wanted, ownership=mine)
    assert first.error is None and first.refused == [], (first.error, first.refused)
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    ns = core.read_namespace("tc-990000")
    labels = (ns.metadata.labels if ns.metadata else None) or {}
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    # quantities as the server stores them: nothing to write again
    again = apply_cluster("real", api, wanted, ownership=mine)
    assert (again.updated, again.created) == ([], [])
    # another identity wants nothing: it deletes nothing
    stranger = apply_cluster("real", api, [], ownership=theirs)
    assert stranger.error is None and stranger.deleted == [] and len(stranger.foreign) == 3
    # privilege added by hand is replaced and raised
    apps.patch_namespaced_deployment(
        PAUSE.name, "tc-990000", {"spec": {"template": {"spec": {"hostNetwork": True}}}}
    )
    drift = apply_cluster("real", api, wanted, ownership=mine)
    assert drift.updated == [f"Deployment tc-990000/{PAUSE.name}"] and drift.alerts
    dep = apps.read_namespaced_deployment(PAUSE.name, "tc-990000")
    assert dep.spec is not None and dep.spec.template.spec is not None
    assert not dep.spec.template.spec.host_network
    # an operator's ConfigMap keeps the namespace
    core.create_namespaced_config_map(
        "tc-990000",
        client.V1ConfigMap.model_validate(
            {"metadata": {"name": "operator-notes"}, "data": {"owner": "ops"}}
        ),
    )
    kept = apply_cluster("real", api, [], ownership=mine)
    assert kept.error is None
    assert kept.kept == ["Namespace tc-990000 kept: it also holds ConfigMap operator-notes"]
    assert core.read_namespaced_config_map("operator-notes", "tc-990000").data == {"owner": "ops"}
    core.delete_namespaced_config_map("operator-notes", "tc-990000")
    gone = apply_cluster("real", api, [], ownership=mine)
    assert "Namespace tc-990000" in gone.deleted
    _gone(api, "tc-990000")
