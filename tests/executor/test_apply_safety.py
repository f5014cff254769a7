"""What apply must never destroy, and how it treats one bad object, against the emulator
(namespace cascade, terminating namespaces, canonical quantities, label selectors)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubernetes import client

from console.executor.apply import ApplyResult, Ownership, apply_cluster
from console.executor.kube import Target, connect
from console.executor.manifests import PlacedWorkload, Style, desired_objects
from console.model.workload import Workload
from tests.executor.emulator import EmulatedCluster, write_kubeconfig

ESEAL = Workload(
    name="gd-e-seal", owner="440000", replicas=5, cpu_milli=2000, memory_bytes=4 * 1024**3,
    image="registry.gd.gov.cn/e-seal:3.2", mlps_level=3, archs=("x86_64",),
)  # fmt: skip
PORTAL = Workload(
    name="gd-portal", owner="440000", replicas=2, cpu_milli=500, memory_bytes=512 * 1024**2,
    image="registry.gd.gov.cn/portal:1.0", mlps_level=2, archs=("x86_64",),
)  # fmt: skip
DEPLOYMENTS = "/apis/apps/v1/namespaces/tc-440000/deployments"


def api_of(tmp_path: Path, cluster: EmulatedCluster) -> client.ApiClient:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", {"ctx": cluster.url})
    return connect(Target(cluster.name, "ctx", kubeconfig))


def run(
    api: client.ApiClient,
    placed: list[PlacedWorkload],
    ownership: Ownership | None = None,
    **kwargs: Any,
) -> ApplyResult:
    style = Style(identity=ownership.identity) if ownership else Style()
    objects = desired_objects(placed, ["gz-a"], style)["gz-a"]
    return apply_cluster("gz-a", api, objects, ownership=ownership, **kwargs)


def configmap(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "tc-440000"},
        "data": {"endpoint": "https://seal.gd.gov.cn"},
    }


def test_a_namespace_holding_anything_else_is_kept(
    tmp_path: Path, clusters: dict[str, EmulatedCluster]
) -> None:
    gz = clusters["gz-a"]
    api = api_of(tmp_path, gz)
    assert run(api, [PlacedWorkload(ESEAL, {"gz-a": 2})]).error is None
    gz.create(configmap("seal-settings"))  # an operator's object beside Tongchou's
    result = run(api, [])
    assert result.error is None
    assert sorted(result.deleted) == [
        "Deployment tc-440000/gd-e-seal",
        "ResourceQuota tc-440000/tongchou",
    ]
    assert result.kept == ["Namespace tc-440000 kept: it also holds ConfigMap seal-settings"]
    gz.settle()
    assert ("ConfigMap", "tc-440000", "seal-settings") in gz.objects()
    assert ("Namespace", "", "tc-440000") in gz.objects()


def test_objects_of_another_identity_are_left_until_adopted(
    tmp_path: Path, clusters: dict[str, EmulatedCluster]
) -> None:
    gz = clusters["gz-a"]
    api = api_of(tmp_path, gz)
    before = Ownership("hub-7f3a")
    assert run(api, [PlacedWorkload(ESEAL, {"gz-a": 2})], before).error is None
    seal = gz.objects()[("Deployment", "tc-440000", "gd-e-seal")]
    assert seal["metadata"]["annotations"]["tongchou.io/owned-by"] == "hub-7f3a/gd-e-seal"
    # a hub with another identity (an empty or different store) wants nothing: it deletes
    # nothing, and says what it leaves alone
    writes = gz.writes()
    stranger = run(api, [], Ownership("hub-0c41"))
    assert stranger.error is None
    assert stranger.deleted == []
    assert len(stranger.foreign) == 3
    assert "belongs to hub-7f3a/gd-e-seal" in " ".join(stranger.foreign)
    assert gz.writes() == writes
    # nor does it change them when it wants them
    again = run(api, [PlacedWorkload(ESEAL, {"gz-a": 4})], Ownership("hub-0c41"))
    assert again.updated == [] and len(again.foreign) == 3
    assert gz.objects()[("Deployment", "tc-440000", "gd-e-seal")]["spec"]["replicas"] == 2
    # adopted: the objects become the new hub's
    adopted = run(api, [PlacedWorkload(ESEAL, {"gz-a": 4})], Ownership("hub-0c41", adopt=True))
    assert adopted.error is None and adopted.foreign == []
    seal = gz.objects()[("Deployment", "tc-440000", "gd-e-seal")]
    assert seal["metadata"]["annotations"]["tongchou.io/owned-by"] == "hub-0c41/gd-e-seal"
    assert seal["spec"]["replicas"] == 4
    assert run(api, [], Ownership("hub-0c41")).foreign == []


def test_a_refused_object_is_reported_and_the_pass_goes_on(
    tmp_path: Path, clusters: dict[str, EmulatedCluster]
) -> None:
    gz = clusters["gz-a"]
    gz.fail("POST", DEPLOYMENTS, 403, 'admission webhook "images.gd.gov.cn" denied the request:'
            " image registry.gd.gov.cn/e-seal:3.2 is not signed", reason="Forbidden")  # fmt: skip
    api = api_of(tmp_path, gz)
    result = run(api, [PlacedWorkload(ESEAL, {"gz-a": 2}), PlacedWorkload(PORTAL, {"gz-a": 1})])
    assert result.error is None
    (refused,) = result.refused
    assert refused.startswith("Deployment tc-440000/gd-e-seal refused (403): admission webhook")
    assert "Deployment tc-440000/gd-portal" in result.created
    gz.fail("PATCH", DEPLOYMENTS + "/gd-portal", 422, 'Deployment.apps "gd-portal" is invalid')
    result = run(api, [PlacedWorkload(ESEAL, {"gz-a": 2}), PlacedWorkload(PORTAL, {"gz-a": 2})])
    assert result.error is None
    assert result.refused == [
        'Deployment tc-440000/gd-portal refused (422): Deployment.apps "gd-portal" is invalid'
    ]
    assert "Deployment tc-440000/gd-e-seal" in result.created
    assert result.api_errors == {"422": 1}


def test_429_waits_as_long_as_retry_after_says(
    tmp_path: Path, clusters: dict[str, EmulatedCluster]
) -> None:
    gz = clusters["gz-a"]
    gz.fail("POST", DEPLOYMENTS, 429, "too many requests", times=2, headers={"Retry-After": "3"})
    waits: list[float] = []
    result = run(api_of(tmp_path, gz), [PlacedWorkload(ESEAL, {"gz-a": 2})], sleep=waits.append)
    assert result.error is None
    assert waits == [3.0, 3.0]
    assert "Deployment tc-440000/gd-e-seal" in result.created


def test_a_terminating_namespace_is_waited_for(
    tmp_path: Path, clusters: dict[str, EmulatedCluster]
) -> None:
    gz = clusters["gz-a"]
    gz.handler.terminate_after = 1.5
    api = api_of(tmp_path, gz)
    assert run(api, [PlacedWorkload(ESEAL, {"gz-a": 2})]).error is None
    assert "Namespace tc-440000" in run(api, []).deleted
    # placed again while the namespace is still terminating: nothing fails, it waits
    result = run(api, [PlacedWorkload(ESEAL, {"gz-a": 2})])
    assert result.error is None
    assert len(result.waiting) == 3
    assert "namespace tc-440000 is terminating" in result.waiting[0]
    gz.settle()
    result = run(api, [PlacedWorkload(ESEAL, {"gz-a": 2})])
    assert result.error is None and len(result.created) == 3


def test_quantities_the_server_rewrites_are_not_patched_again(
    tmp_path: Path, clusters: dict[str, EmulatedCluster]
) -> None:
    gz = clusters["gz-a"]
    api = api_of(tmp_path, gz)
    small = Workload(
        name="gd-relay", owner="440000", replicas=999, cpu_milli=1000, memory_bytes=500_000_000,
        image="registry.gd.gov.cn/relay:1.0", mlps_level=3, archs=("x86_64",),
    )  # fmt: skip
    placed = [PlacedWorkload(small, {"gz-a": 999})]
    assert run(api, placed).error is None
    quota = gz.objects()[("ResourceQuota", "tc-440000", "tongchou")]["spec"]["hard"]
    assert quota["pods"] == "1k"  # as the server stores it
    writes = gz.writes()
    again = run(api, placed)
    assert again.updated == [] and gz.writes() == writes


def test_drift_is_undone_and_added_privilege_raised(
    tmp_path: Path, clusters: dict[str, EmulatedCluster]
) -> None:
    gz = clusters["gz-a"]
    api = api_of(tmp_path, gz)
    placed = [PlacedWorkload(ESEAL, {"gz-a": 2})]
    assert run(api, placed).error is None
    seal = gz.objects()[("Deployment", "tc-440000", "gd-e-seal")]
    container = dict(seal["spec"]["template"]["spec"]["containers"][0])
    container["env"] = [{"name": "DEBUG", "value": "1"}]
    container["securityContext"] = dict(container["securityContext"], privileged=True)
    container["volumeMounts"] = [{"name": "root", "mountPath": "/host"}]
    gz.edit("Deployment", "tc-440000", "gd-e-seal", {"spec": {"template": {"spec": {
        "hostNetwork": True, "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
        "containers": [container],
    }}}})  # fmt: skip
    result = run(api, placed)
    assert result.error is None
    assert result.updated == ["Deployment tc-440000/gd-e-seal"]
    (drift,) = result.drift
    assert "spec.template.spec.hostNetwork" in drift and "containers[gd-e-seal].env" in drift
    (alert,) = result.alerts
    for what in ("hostNetwork: true", "hostPath volume root (/)", "gd-e-seal privileged"):
        assert what in alert
    pod = gz.objects()[("Deployment", "tc-440000", "gd-e-seal")]["spec"]["template"]["spec"]
    assert "hostNetwork" not in pod and "volumes" not in pod
    assert "env" not in pod["containers"][0]
    assert "privileged" not in pod["containers"][0]["securityContext"]
    final = run(api, placed)
    assert final.updated == [] and final.drift == []


def test_a_workload_without_archs_is_held_on_a_cluster_of_several(
    tmp_path: Path, clusters: dict[str, EmulatedCluster]
) -> None:
    gz = clusters["gz-a"]
    api = api_of(tmp_path, gz)
    anyarch = Workload(
        name="gd-forms", owner="440000", replicas=2, cpu_milli=500, memory_bytes=1024**3,
        image="registry.gd.gov.cn/forms:2", mlps_level=3,
    )  # fmt: skip
    placed = [PlacedWorkload(anyarch, {"gz-a": 2})]
    single = Style(cluster_archs={"gz-a": ["aarch64"]})
    assert (
        apply_cluster("gz-a", api, desired_objects(placed, ["gz-a"], single)["gz-a"]).error is None
    )
    pod = gz.objects()[("Deployment", "tc-440000", "gd-forms")]["spec"]["template"]["spec"]
    assert pod["affinity"]["nodeAffinity"]  # pinned to arm64, the cluster's only arch
    # Loongson nodes join: the workload cannot be pinned; it is reported, and what runs
    # is neither changed nor removed
    mixed = Style(cluster_archs={"gz-a": ["aarch64", "loongarch64"]})
    more = [PlacedWorkload(anyarch, {"gz-a": 3})]
    result = apply_cluster("gz-a", api, desired_objects(more, ["gz-a"], mixed)["gz-a"])
    assert result.error is None and result.deleted == []
    (refused,) = result.refused
    assert refused.startswith("Deployment tc-440000/gd-forms not applied: workload gd-forms")
    assert gz.objects()[("Deployment", "tc-440000", "gd-forms")]["spec"]["replicas"] == 2
