"""What one apply did in one cluster, and whose objects a pass may touch."""

from __future__ import annotations

from dataclasses import dataclass, field

from console.executor.kube import ClusterError
from console.executor.manifests import (
    ANNOTATION_OWNED_BY,
    APPLY_IDENTITY,
    LABEL_MANAGED_BY,
    LABEL_WORKLOAD,
    MANAGED_BY,
    Manifest,
)


@dataclass(frozen=True, slots=True)
class Ownership:
    """Whose objects a pass may change: `identity`'s; with `adopt`, every object labelled
    as Tongchou's (another hub's, or one made before identities), which it then takes over."""

    identity: str = APPLY_IDENTITY
    adopt: bool = False


@dataclass(slots=True)
class ApplyResult:
    """What one apply did in one cluster. `error` is set when the cluster could not be
    worked on at all; `refused` lists single objects the server or the rules kept from being
    applied, with the reason; `waiting` those held back until their namespace is gone;
    `foreign` Tongchou objects of another identity left alone; `kept` namespaces not deleted
    because they hold something else; `drift` objects found changed by hand and replaced;
    `alerts` hand-made changes that added privilege."""

    cluster: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    throttled: float = 0.0  # seconds spent waiting on Retry-After
    api_errors: dict[str, int] = field(default_factory=dict)  # HTTP status → answers
    ready: dict[str, int] = field(default_factory=dict)
    error: ClusterError | None = None

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def summary(self) -> str:
        if self.error is not None:
            return f"error ({self.error.kind}): {self.error.message}"
        parts = [
            f"{len(self.created)} created",
            f"{len(self.updated)} updated",
            f"{len(self.unchanged)} unchanged",
            f"{len(self.deleted)} deleted",
        ]
        for name in ("refused", "waiting", "foreign", "kept"):
            if getattr(self, name):
                parts.append(f"{len(getattr(self, name))} {name}")
        return ", ".join(parts)


def object_key(obj: Manifest) -> tuple[str, str, str]:
    meta = obj["metadata"]
    return (obj["kind"], str(meta.get("namespace") or ""), str(meta["name"]))


def describe(obj: Manifest) -> str:
    kind, ns, name = object_key(obj)
    return f"{kind} {ns}/{name}" if ns else f"{kind} {name}"


def managed(obj: Manifest) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return bool(labels.get(LABEL_MANAGED_BY) == MANAGED_BY)


def owner_of(obj: Manifest) -> str:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(ANNOTATION_OWNED_BY) or "")


def expected_owner(obj: Manifest, identity: str) -> str:
    """The owned-by value `identity` gives `obj`: `<identity>/<workload>` on a Deployment."""
    if obj.get("kind") == "Deployment":
        workload = ((obj.get("metadata") or {}).get("labels") or {}).get(LABEL_WORKLOAD, "")
        return f"{identity}/{workload}"
    return identity


def owned(obj: Manifest, ownership: Ownership) -> bool:
    """Whether this pass may change or delete `obj`."""
    if not managed(obj):
        return False
    return ownership.adopt or owner_of(obj) == expected_owner(obj, ownership.identity)


def not_ours(obj: Manifest) -> str:
    owner = owner_of(obj) or "no owner annotation"
    return (
        f"{describe(obj)} belongs to {owner}; left alone (adopt it to take it over:"
        " `tongchou hub --adopt`, `tongchou apply --adopt`)"
    )
