"""Apply against two emulated clusters with the official client: objects, no-ops, moves."""

from __future__ import annotations

from pathlib import Path

import attrs
from kmock import KubernetesError
from kubernetes import client

from console.executor.apply import apply_cluster
from console.executor.kube import Target, connect
from console.executor.manifests import PlacedWorkload, desired_objects
from console.model.workload import Workload
from tests.executor.emulator import EmulatedCluster, write_kubeconfig


@attrs.frozen
class Forbidden(KubernetesError):
    """What an API server says when RBAC does not allow the call."""

    status: int = 403
    reason: str = "Forbidden"
    message: str = 'deployments.apps "gd-e-seal" is forbidden: cannot create deployments'


@attrs.frozen
class Conflict(KubernetesError):
    """What an API server says when another writer created or changed the object first."""

    status: int = 409
    reason: str = "Object Already Exists"
    message: str = "The object already exists in the Kubernetes server and is not deleted."


ESEAL = Workload(
    name="gd-e-seal", owner="440000", replicas=5, cpu_milli=2000, memory_bytes=4 * 1024**3,
    image="registry.gd.gov.cn/e-seal:3.2", mlps_level=3, archs=("x86_64", "aarch64"),
)  # fmt: skip
PORTAL = Workload(
    name="gz-portal", owner="440100", replicas=2, cpu_milli=500, memory_bytes=512 * 1024**2,
    image="registry.gd.gov.cn/portal:1.0", mlps_level=2,
)  # fmt: skip


def apis(tmp_path: Path, clusters: dict[str, EmulatedCluster]) -> dict[str, client.ApiClient]:
    kubeconfig = write_kubeconfig(
        tmp_path / "kubeconfig", {f"ctx-{n}": c.url for n, c in clusters.items()}
    )
    return {n: connect(Target(n, f"ctx-{n}", kubeconfig)) for n in clusters}


def apply_all(
    api: dict[str, client.ApiClient], items: list[PlacedWorkload]
) -> dict[str, list[str]]:
    wanted = desired_objects(items, api)
    out = {}
    for name, objects in wanted.items():
        result = apply_cluster(name, api[name], objects)
        assert result.error is None, result.error
        out[name] = result.created + result.updated + result.deleted
    return out


def test_apply_creates_exactly_the_expected_objects(
    tmp_path: Path, clusters: dict[str, EmulatedCluster]
) -> None:
    api = apis(tmp_path, clusters)
    items = [
        PlacedWorkload(ESEAL, {"gz-a": 3, "sz-b": 2}, generation=4),
        PlacedWorkload(PORTAL, {"gz-a": 2}, generation=1),
    ]
    apply_all(api, items)
    gz, sz = clusters["gz-a"].objects(), clusters["sz-b"].objects()
    assert sorted(gz) == [
        ("Deployment", "tc-440000", "gd-e-seal"),
        ("Deployment", "tc-440100", "gz-portal"),
        ("Namespace", "", "tc-440000"),
        ("Namespace", "", "tc-440100"),
        ("ResourceQuota", "tc-440000", "tongchou"),
        ("ResourceQuota", "tc-440100", "tongchou"),
    ]
    assert sorted(sz) == [
        ("Deployment", "tc-440000", "gd-e-seal"),
        ("Namespace", "", "tc-440000"),
        ("ResourceQuota", "tc-440000", "tongchou"),
    ]
    seal = gz[("Deployment", "tc-440000", "gd-e-seal")]
    assert seal["spec"]["replicas"] == 3
    assert sz[("Deployment", "tc-440000", "gd-e-seal")]["spec"]["replicas"] == 2
    meta = seal["metadata"]
    assert meta["labels"]["app.kubernetes.io/managed-by"] == "tongchou"
    assert meta["labels"]["tongchou.io/owner"] == "440000"
    assert meta["annotations"]["tongchou.io/placement-generation"] == "4"
    pod = seal["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "registry.gd.gov.cn/e-seal:3.2"
    assert container["resources"]["requests"] == {"cpu": "2", "memory": "4Gi"}
    assert container["resources"]["limits"] == {"cpu": "2", "memory": "4Gi"}
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    expr = terms["nodeSelectorTerms"][0]["matchExpressions"][0]
    assert expr == {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]}
    quota = gz[("ResourceQuota", "tc-440000", "tongchou")]["spec"]["hard"]
    # 3 placed + 1 replica of room for a rolling update, 2 cores and 4Gi each
    assert quota == {
        "requests.cpu": "8", "requests.memory": "16Gi", "limits.cpu": "8",
        "limits.memory": "16Gi", "pods": "4",
    }  # fmt: skip
    assert (
        "affinity" not in gz[("Deployment", "tc-440100", "gz-portal")]["spec"]["template"]["spec"]
    )


def test_second_apply_is_a_no_op(tmp_path: Path, clusters: dict[str, EmulatedCluster]) -> None:
    api = apis(tmp_path, clusters)
    items = [PlacedWorkload(ESEAL, {"gz-a": 3, "sz-b": 2}, generation=4)]
    assert apply_all(api, items) != {"gz-a": [], "sz-b": []}
    writes = clusters["gz-a"].writes()
    assert apply_all(api, items) == {"gz-a": [], "sz-b": []}
    again = clusters["gz-a"].writes()
    assert again == writes > 0
    # a pass with nothing to change reads each cluster with one list per kind
    calls = len(list(clusters["gz-a"].handler))
    apply_all(api, items)
    assert len(list(clusters["gz-a"].handler)) - calls == 3


def test_moved_workload_leaves_no_orphans_and_unmanaged_objects_stay(
    tmp_path: Path, clusters: dict[str, EmulatedCluster]
) -> None:
    api = apis(tmp_path, clusters)
    apps = client.AppsV1Api(api["sz-b"])
    core = client.CoreV1Api(api["sz-b"])
    core.create_namespace(
        client.V1Namespace.model_validate(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ops"}}
        )
    )
    theirs = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "monitoring", "namespace": "ops", "labels": {"team": "ops"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "monitoring"}},
            "template": {
                "metadata": {"labels": {"app": "monitoring"}},
                "spec": {"containers": [{"name": "m", "image": "prom"}]},
            },
        },
    }
    apps.create_namespaced_deployment("ops", client.V1Deployment.model_validate(theirs))
    apply_all(api, [PlacedWorkload(ESEAL, {"gz-a": 3, "sz-b": 2}, generation=4)])
    changes = apply_all(api, [PlacedWorkload(ESEAL, {"gz-a": 5}, generation=5)])
    assert sorted(changes["sz-b"]) == [
        "Deployment tc-440000/gd-e-seal",
        "Namespace tc-440000",
        "ResourceQuota tc-440000/tongchou",
    ]
    assert changes["gz-a"] == ["ResourceQuota tc-440000/tongchou", "Deployment tc-440000/gd-e-seal"]
    clusters["sz-b"].settle()
    assert sorted(clusters["sz-b"].objects()) == [
        ("Deployment", "ops", "monitoring"),
        ("Namespace", "", "ops"),
    ]
    gz = clusters["gz-a"].objects()
    assert gz[("Deployment", "tc-440000", "gd-e-seal")]["spec"]["replicas"] == 5
    # deleted workload: everything Tongchou made goes, nothing else
    apply_all(api, [])
    clusters["gz-a"].settle()
    assert clusters["gz-a"].objects() == {}
    assert len(clusters["sz-b"].objects()) == 2


def test_an_unmanaged_object_of_the_same_name_is_refused(
    tmp_path: Path, clusters: dict[str, EmulatedCluster]
) -> None:
    api = apis(tmp_path, clusters)
    core = client.CoreV1Api(api["gz-a"])
    core.create_namespace(
        client.V1Namespace.model_validate(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tc-440000"}}
        )
    )
    wanted = desired_objects([PlacedWorkload(ESEAL, {"gz-a": 1})], ["gz-a"])
    result = apply_cluster("gz-a", api["gz-a"], wanted["gz-a"])
    assert result.error is None
    assert result.refused == [
        "Namespace tc-440000 exists and is not managed by Tongchou; left alone"
    ]
    ns = clusters["gz-a"].objects()[("Namespace", "", "tc-440000")]
    assert "labels" not in ns["metadata"]


def test_conflicts_are_read_again_and_settled(
    tmp_path: Path, clusters: dict[str, EmulatedCluster]
) -> None:
    # The emulator answers 409 to the first create and the first patch of the Deployment
    # (as when another writer got there first); the executor reads again and settles.
    gz = clusters["gz-a"]
    path = "/apis/apps/v1/namespaces/tc-440000/deployments"
    gz.handler[f"post {path}"][:1] << Conflict
    gz.handler[f"patch {path}/gd-e-seal"][:1] << Conflict
    api = apis(tmp_path, clusters)
    wanted = desired_objects([PlacedWorkload(ESEAL, {"gz-a": 2})], ["gz-a"])["gz-a"]
    first = apply_cluster("gz-a", api["gz-a"], wanted)
    assert first.error is None
    assert "Deployment tc-440000/gd-e-seal" not in first.created  # someone else's create
    moved = desired_objects([PlacedWorkload(ESEAL, {"gz-a": 4})], ["gz-a"])["gz-a"]
    second = apply_cluster("gz-a", api["gz-a"], moved)
    assert second.error is None
    assert gz.objects()[("Deployment", "tc-440000", "gd-e-seal")]["spec"]["replicas"] == 4
    # after the 409 the Deployment read back already holds 4 replicas: nothing more to write
    assert second.updated == ["ResourceQuota tc-440000/tongchou"]
    assert second.unchanged == ["Namespace tc-440000", "Deployment tc-440000/gd-e-seal"]


def test_forbidden_is_reported_with_its_cause(
    tmp_path: Path, clusters: dict[str, EmulatedCluster]
) -> None:
    path = "/apis/apps/v1/namespaces/tc-440000/deployments"
    clusters["gz-a"].handler[f"post {path}"] << Forbidden
    api = apis(tmp_path, clusters)
    wanted = desired_objects([PlacedWorkload(ESEAL, {"gz-a": 1})], ["gz-a"])["gz-a"]
    result = apply_cluster("gz-a", api["gz-a"], wanted)
    assert result.error is not None
    assert result.error.kind == "forbidden"
    assert result.error.user_error
    assert "refused access (403)" in result.error.message
    assert "cannot create deployments" in result.error.message
