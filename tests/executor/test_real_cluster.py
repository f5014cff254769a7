"""The same apply and delete against a real cluster, when one is given.

Set TONGCHOU_TEST_KUBECONFIG to a kubeconfig (and TONGCHOU_TEST_CONTEXT to a context, else
its current one). Use a test cluster: the test applies in namespace `tc-990000`, then
applies nothing, which removes every object Tongchou manages in that cluster.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from console.executor.apply import apply_cluster
from console.executor.kube import Target, connect
from console.executor.manifests import PlacedWorkload, desired_objects
from console.model.workload import Workload

KUBECONFIG = os.environ.get("TONGCHOU_TEST_KUBECONFIG", "")
pytestmark = pytest.mark.skipif(not KUBECONFIG, reason="TONGCHOU_TEST_KUBECONFIG is not set")

PAUSE = Workload(
    name="tongchou-test-pause", owner="990000", replicas=1, cpu_milli=10,
    memory_bytes=16 * 1024**2, image="registry.k8s.io/pause:3.9", mlps_level=1,
    archs=("x86_64", "aarch64"),
)  # fmt: skip


def test_apply_is_idempotent_and_delete_leaves_nothing() -> None:
    path = Path(KUBECONFIG)
    context = os.environ.get("TONGCHOU_TEST_CONTEXT") or str(
        yaml.safe_load(path.read_text(encoding="utf-8")).get("current-context", "")
    )
    api = connect(Target("real", context, path))
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
