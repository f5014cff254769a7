"""What the scheduler decided for a workload, and why."""

from __future__ import annotations

from dataclasses import dataclass, field

from console.model.replicas import Replicas


@dataclass(slots=True)
class ClusterVerdict:
    """One cluster, for one workload: what removed it, or its fit, cap and score terms."""

    cluster: str
    site: str
    removed_by: str = ""  # policy name, or "fit"
    reason: str = ""  # the policy's message, or "insufficient cpu" / "insufficient memory"
    fit: int = 0
    cap: int = 0
    terms: dict[str, float] = field(default_factory=dict)
    score: float = 0.0
    replicas: int = 0


@dataclass(slots=True)
class Placement:
    """Replicas by cluster, those pending with the reason, and (when asked) every verdict."""

    workload: str
    replicas: int
    placed: Replicas
    pending: int
    reason: str = ""
    summary: str = ""
    verdicts: list[ClusterVerdict] | None = None

    @property
    def placed_total(self) -> int:
        return self.placed.total

    def to_dict(self) -> dict[str, object]:
        """The stable machine form (see docs/scheduling.md)."""
        out: dict[str, object] = {
            "workload": self.workload,
            "replicas": self.replicas,
            "placed": dict(sorted(self.placed.items())),
            "pending": self.pending,
            "reason": self.reason,
            "summary": self.summary,
        }
        if self.verdicts is not None:
            out["clusters"] = [
                {
                    "cluster": v.cluster,
                    "site": v.site,
                    "removedBy": v.removed_by,
                    "reason": v.reason,
                    "fit": v.fit,
                    "cap": v.cap,
                    "terms": {k: round(t, 4) for k, t in v.terms.items()},
                    "score": round(v.score, 4),
                    "replicas": v.replicas,
                }
                for v in self.verdicts
            ]
        return out


@dataclass(slots=True)
class PolicyEffect:
    """What one policy, on its own, does to the given workloads on the fleet's clusters."""

    policy: str
    workloads_matched: int = 0
    removed: list[str] = field(default_factory=list)  # for at least one workload, by name
    removed_each: list[int] = field(default_factory=list)  # clusters removed, per workload

    @property
    def removed_max(self) -> int:
        return max(self.removed_each, default=0)

    @property
    def removed_mean(self) -> float:
        return sum(self.removed_each) / len(self.removed_each) if self.removed_each else 0.0
