"""The Kubernetes objects a set of placements asks for, per cluster, as plain JSON dicts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
# Who made the object: the hub's identity (Namespace, ResourceQuota), `<hub>/<workload>`
# (Deployment). Only objects carrying the caller's identity are ever changed or deleted.
ANNOTATION_OWNED_BY = "tongchou.io/owned-by"
# On a wanted object: why it must not be applied (nor, if it exists, changed or pruned).
ANNOTATION_HELD = "tongchou.io/held"
APPLY_IDENTITY = "tongchou-apply"  # `tongchou apply`'s identity unless --identity is given
POD_SECURITY_LEVELS = ("restricted", "baseline", "privileged")
QUOTA_NAME = "tongchou"
# Node labels the affinity reads: the kubelet sets the arch; the chip is the operator's to
# set on each node, with the value its agent reports (`tongchou.io/chip=kunpeng-920`).
LABEL_NODE_ARCH = "kubernetes.io/arch"
LABEL_NODE_CHIP = "tongchou.io/chip"
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


def decimal_quantity(value: int) -> str:
    """A whole number in Kubernetes' canonical decimal form: 1000 → "1k", 500000000 → "500M",
    1500 → "1500" (the largest suffix that keeps an integer, as the API server stores it)."""
    for suffix, size in (
        ("E", 10**18),
        ("P", 10**15),
        ("T", 10**12),
        ("G", 10**9),
        ("M", 10**6),
        ("k", 10**3),
    ):
        if value and value % size == 0:
            return f"{value // size}{suffix}"
    return str(value)


def cpu_quantity(milli: int) -> str:
    """Millicores in Kubernetes' canonical form: whole cores as "2" ("1k" for 1000), else
    "500m"."""
    return decimal_quantity(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def memory_quantity(value: int) -> str:
    """Bytes in Kubernetes' canonical form: binary ("8Gi", "512Mi") when exact, else decimal
    ("500M")."""
    for suffix, size in (
        ("Ei", 1024**6),
        ("Pi", 1024**5),
        ("Ti", 1024**4),
        ("Gi", 1024**3),
        ("Mi", 1024**2),
        ("Ki", 1024),
    ):
        if value and value % size == 0:
            return f"{value // size}{suffix}"
    return decimal_quantity(value)


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


@dataclass(frozen=True, slots=True)
class Style:
    """How the objects are made: whose they are, the Pod Security level of the namespaces,
    and the architectures each cluster's nodes report (to pin workloads that declare none)."""

    identity: str = APPLY_IDENTITY
    pod_security: str = "restricted"
    cluster_archs: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.pod_security not in POD_SECURITY_LEVELS:
            raise ValueError(
                f"pod security level {self.pod_security!r} is not one of "
                + ", ".join(POD_SECURITY_LEVELS)
            )
        if not self.identity or "/" in self.identity:
            raise ValueError(f"identity {self.identity!r} must be a non-empty name without '/'")


def _affinity(w: Workload, cluster: str, style: Style) -> list[dict[str, Any]]:
    """Required node-selector expressions: the workload's archs (or, when it declares none,
    the single arch of the cluster's nodes) and its chips."""
    archs = kube_archs(w.archs) or kube_archs(style.cluster_archs.get(cluster, ()))
    exprs: list[dict[str, Any]] = []
    if w.archs or len(archs) == 1:
        exprs.append({"key": LABEL_NODE_ARCH, "operator": "In", "values": archs})
    if w.chips:
        exprs.append({"key": LABEL_NODE_CHIP, "operator": "In", "values": sorted(set(w.chips))})
    return exprs


def deployment(item: PlacedWorkload, cluster: str, style: Style | None = None) -> Manifest:
    """The Deployment of `item` in `cluster`: placed replicas, requests = limits, node
    affinity on arch and chip, a restricted security context."""
    style = style or Style()
    w = item.workload
    resources = {"cpu": cpu_quantity(w.cpu_milli), "memory": memory_quantity(w.memory_bytes)}
    container: dict[str, Any] = {
        "name": w.name,
        "image": w.image,
        "resources": {"requests": dict(resources), "limits": dict(resources)},
    }
    pod_spec: dict[str, Any] = {"containers": [container]}
    if style.pod_security == "restricted":
        pod_spec["securityContext"] = {
            "runAsNonRoot": True,
            "seccompProfile": {"type": "RuntimeDefault"},
        }
        container["securityContext"] = {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        }
    exprs = _affinity(w, cluster, style)
    annotations = {
        ANNOTATION_GENERATION: str(item.generation),
        ANNOTATION_CLUSTER: cluster,
        ANNOTATION_OWNED_BY: f"{style.identity}/{w.name}",
    }
    several = kube_archs(style.cluster_archs.get(cluster, ()))
    if not w.archs and len(several) > 1:
        annotations[ANNOTATION_HELD] = (
            f"workload {w.name} declares no archs and cluster {cluster} has nodes of"
            f" {', '.join(several)}: declare spec.archs (the architectures its image"
            " supports) so its pods land only where the image runs"
        )
    if exprs:
        pod_spec["affinity"] = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": exprs}]
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
            "annotations": annotations,
        },
        "spec": {
            "replicas": int(item.placed[cluster]),
            "selector": {"matchLabels": {LABEL_WORKLOAD: w.name}},
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


def namespace(owner: str, style: Style | None = None) -> Manifest:
    """The owner division's namespace, with its Pod Security level enforced."""
    style = style or Style()
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": namespace_of(owner),
            "labels": {
                LABEL_MANAGED_BY: MANAGED_BY,
                LABEL_OWNER: owner,
                "pod-security.kubernetes.io/enforce": style.pod_security,
                "pod-security.kubernetes.io/enforce-version": "latest",
            },
            "annotations": {ANNOTATION_OWNED_BY: style.identity},
        },
    }


def resource_quota(
    owner: str, items: list[tuple[Workload, int]], style: Style | None = None
) -> Manifest:
    """The owner's quota in one cluster: what its placed replicas ask, plus one replica of
    each workload as room for a rolling update (requests = limits)."""
    style = style or Style()
    cpu = sum((n + 1) * w.cpu_milli for w, n in items)
    memory = sum((n + 1) * w.memory_bytes for w, n in items)
    pods = sum(n + 1 for _, n in items)
    hard = {
        "requests.cpu": cpu_quantity(cpu),
        "requests.memory": memory_quantity(memory),
        "limits.cpu": cpu_quantity(cpu),
        "limits.memory": memory_quantity(memory),
        "pods": decimal_quantity(pods),
    }
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {
            "name": QUOTA_NAME,
            "namespace": namespace_of(owner),
            "labels": {LABEL_MANAGED_BY: MANAGED_BY, LABEL_OWNER: owner},
            "annotations": {ANNOTATION_OWNED_BY: style.identity},
        },
        "spec": {"hard": hard},
    }


def desired_objects(
    items: Iterable[PlacedWorkload], clusters: Iterable[str], style: Style | None = None
) -> dict[str, list[Manifest]]:
    """Every object each of `clusters` should hold (Namespaces, then ResourceQuotas, then
    Deployments, each sorted by name). A cluster with nothing placed maps to an empty list,
    so applying it removes what Tongchou left there before."""
    style = style or Style()
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
        objects = [namespace(o, style) for o in sorted(owners)]
        objects += [resource_quota(o, owners[o], style) for o in sorted(owners)]
        objects += [
            deployment(item, cluster, style)
            for item in sorted(placed, key=lambda i: (i.workload.owner, i.workload.name))
        ]
        out[cluster] = objects
    return out
