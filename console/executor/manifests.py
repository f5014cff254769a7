"""The Kubernetes objects a set of placements asks for, per cluster, as plain JSON dicts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from console.model.workload import Workload

Manifest = dict[str, Any]

MANAGED_BY = "tongchou"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_NAME = "app.kubernetes.io/name"
LABEL_WORKLOAD = "tongchou.io/workload"
LABEL_OWNER = "tongchou.io/owner"
ANNOTATION_GENERATION = "tongchou.io/placement-generation"
ANNOTATION_CLUSTER = "tongchou.io/cluster"
QUOTA_NAME = "tongchou"
# Node architectures as agents report them (`uname -m`) → the `kubernetes.io/arch` label.
KUBE_ARCH = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "loongarch64": "loong64",
    "loong64": "loong64",
}


@dataclass(frozen=True, slots=True)
class PlacedWorkload:
    """A workload with its replicas per cluster and the generation of that placement."""

    workload: Workload
    placed: Mapping[str, int]
    generation: int = 0


def namespace_of(owner: str) -> str:
    """The namespace of an owner division's workloads: `tc-<division code>`."""
    return f"tc-{owner}"


def cpu_quantity(milli: int) -> str:
    """Millicores in Kubernetes' canonical form: whole cores as "2", else "500m"."""
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def memory_quantity(value: int) -> str:
    """Bytes in Kubernetes' canonical binary form ("8Gi", "512Mi") when exact, else bytes."""
    for suffix, size in (("Ti", 1024**4), ("Gi", 1024**3), ("Mi", 1024**2), ("Ki", 1024)):
        if value and value % size == 0:
            return f"{value // size}{suffix}"
    return str(value)


def kube_archs(archs: Iterable[str]) -> list[str]:
    """The `kubernetes.io/arch` values of a workload's allowed architectures (sorted, unique);
    an architecture Kubernetes has no name for keeps its own."""
    return sorted({KUBE_ARCH.get(a, a) for a in archs})


def _labels(workload: Workload) -> dict[str, str]:
    return {
        LABEL_MANAGED_BY: MANAGED_BY,
        LABEL_NAME: workload.name,
        LABEL_WORKLOAD: workload.name,
        LABEL_OWNER: workload.owner,
    }


def deployment(item: PlacedWorkload, cluster: str) -> Manifest:
    """The Deployment of `item` in `cluster`: placed replicas, requests = limits, arch affinity."""
    w = item.workload
    resources = {"cpu": cpu_quantity(w.cpu_milli), "memory": memory_quantity(w.memory_bytes)}
    pod_spec: dict[str, Any] = {
        "containers": [
            {
                "name": w.name,
                "image": w.image,
                "resources": {"requests": dict(resources), "limits": dict(resources)},
            }
        ]
    }
    if w.archs:
        pod_spec["affinity"] = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": "kubernetes.io/arch",
                                    "operator": "In",
                                    "values": kube_archs(w.archs),
                                }
                            ]
                        }
                    ]
                }
            }
        }
    labels = _labels(w)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": w.name,
            "namespace": namespace_of(w.owner),
            "labels": labels,
            "annotations": {
                ANNOTATION_GENERATION: str(item.generation),
                ANNOTATION_CLUSTER: cluster,
            },
        },
        "spec": {
            "replicas": int(item.placed[cluster]),
            "selector": {"matchLabels": {LABEL_WORKLOAD: w.name}},
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


def namespace(owner: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": namespace_of(owner),
            "labels": {LABEL_MANAGED_BY: MANAGED_BY, LABEL_OWNER: owner},
        },
    }


def resource_quota(owner: str, items: list[tuple[Workload, int]]) -> Manifest:
    """The owner's quota in one cluster: what its placed replicas ask, plus one replica of
    each workload as room for a rolling update (requests = limits)."""
    cpu = sum((n + 1) * w.cpu_milli for w, n in items)
    memory = sum((n + 1) * w.memory_bytes for w, n in items)
    pods = sum(n + 1 for _, n in items)
    hard = {
        "requests.cpu": cpu_quantity(cpu),
        "requests.memory": memory_quantity(memory),
        "limits.cpu": cpu_quantity(cpu),
        "limits.memory": memory_quantity(memory),
        "pods": str(pods),
    }
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {
            "name": QUOTA_NAME,
            "namespace": namespace_of(owner),
            "labels": {LABEL_MANAGED_BY: MANAGED_BY, LABEL_OWNER: owner},
        },
        "spec": {"hard": hard},
    }


def desired_objects(
    items: Iterable[PlacedWorkload], clusters: Iterable[str]
) -> dict[str, list[Manifest]]:
    """Every object each of `clusters` should hold (Namespaces, then ResourceQuotas, then
    Deployments, each sorted by name). A cluster with nothing placed maps to an empty list,
    so applying it removes what Tongchou left there before."""
    out: dict[str, list[Manifest]] = {c: [] for c in clusters}
    by_cluster: dict[str, list[PlacedWorkload]] = {c: [] for c in out}
    for item in items:
        for cluster, replicas in item.placed.items():
            if cluster in by_cluster and replicas > 0:
                by_cluster[cluster].append(item)
    for cluster, placed in by_cluster.items():
        owners: dict[str, list[tuple[Workload, int]]] = {}
        for item in placed:
            owners.setdefault(item.workload.owner, []).append(
                (item.workload, int(item.placed[cluster]))
            )
        objects = [namespace(o) for o in sorted(owners)]
        objects += [resource_quota(o, owners[o]) for o in sorted(owners)]
        objects += [
            deployment(item, cluster)
            for item in sorted(placed, key=lambda i: (i.workload.owner, i.workload.name))
        ]
        out[cluster] = objects
    return out
