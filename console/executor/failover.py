"""When a cluster is unavailable, and when it is back: the failover rules, as plain state.

A cluster becomes unavailable when every agent in it has been lost for longer than the grace
period, or when its Kubernetes API failed `api_failures` checks in a row. It becomes
available again only after it has been healthy (agents back, API answering) without a break
for `recover_after` seconds: hysteresis, so a cluster that flaps does not drag replicas
back and forth. What happens to replicas then is the `move_back` policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class MoveBack(StrEnum):
    """What a recovered cluster gets back."""

    NEVER = "never"  # replicas stay where failover put them; new work may use the cluster
    ALWAYS = "always"  # workloads that left it are placed again from scratch, under policy


@dataclass(frozen=True, slots=True)
class FailoverPolicy:
    """The knobs of failover. Durations in seconds."""

    agent_grace: float = 60.0
    api_failures: int = 3
    recover_after: float = 120.0
    move_back: MoveBack = MoveBack.NEVER

    def __post_init__(self) -> None:
        if self.agent_grace < 0 or self.recover_after < 0:
            raise ValueError("failover durations must not be negative")
        if self.api_failures < 1:
            raise ValueError(f"api failures must be at least 1, got {self.api_failures}")


@dataclass(slots=True)
class ClusterHealth:
    """What the hub knows of one cluster's health."""

    name: str
    available: bool = True
    agents_known: bool = False
    agents_lost_since: float | None = None
    api_failures: int = 0
    api_error: str = ""
    api_checked: bool = False
    healthy_since: float | None = None
    reason: str = ""  # why it is unavailable (or was, last)

    def describe(self) -> str:
        """One line for the console and the events: available, recovering, or unavailable."""
        if self.available:
            if self.api_error:
                return f"available; API failing ({self.api_failures}): {self.api_error}"
            return "available"
        if self.healthy_since is not None:
            return f"recovering (unavailable: {self.reason})"
        return f"unavailable: {self.reason}"


@dataclass(frozen=True, slots=True)
class Transition:
    cluster: str
    available: bool
    reason: str


@dataclass(slots=True)
class HealthTracker:
    """Observations in, transitions out. The caller supplies the time."""

    policy: FailoverPolicy
    clusters: dict[str, ClusterHealth] = field(default_factory=dict)

    def health(self, cluster: str) -> ClusterHealth:
        return self.clusters.setdefault(cluster, ClusterHealth(cluster))

    def observe_agents(self, cluster: str, *, known: int, live: int, now: float) -> None:
        """`known` agents of the cluster, `live` of them not lost."""
        h = self.health(cluster)
        h.agents_known = known > 0
        if known and not live:
            if h.agents_lost_since is None:
                h.agents_lost_since = now
        else:
            h.agents_lost_since = None

    def observe_api(self, cluster: str, *, ok: bool, error: str = "") -> None:
        h = self.health(cluster)
        h.api_checked = True
        if ok:
            h.api_failures = 0
            h.api_error = ""
        else:
            h.api_failures += 1
            h.api_error = error

    def _down_reason(self, h: ClusterHealth, now: float) -> str:
        if h.agents_lost_since is not None and now - h.agents_lost_since >= self.policy.agent_grace:
            return f"all agents lost for {now - h.agents_lost_since:.0f}s"
        if h.api_failures >= self.policy.api_failures:
            return f"Kubernetes API failed {h.api_failures} checks in a row: {h.api_error}"
        return ""

    def _healthy(self, h: ClusterHealth) -> bool:
        return h.agents_lost_since is None and h.api_failures == 0

    def evaluate(self, now: float) -> list[Transition]:
        """The clusters whose availability changes now."""
        out = []
        for h in self.clusters.values():
            if h.available:
                reason = self._down_reason(h, now)
                if reason:
                    h.available = False
                    h.reason = reason
                    h.healthy_since = None
                    out.append(Transition(h.name, False, reason))
                continue
            if not self._healthy(h):
                h.healthy_since = None
                continue
            if h.healthy_since is None:
                h.healthy_since = now
            if now - h.healthy_since >= self.policy.recover_after:
                h.available = True
                h.healthy_since = None
                out.append(
                    Transition(
                        h.name,
                        True,
                        f"healthy for {self.policy.recover_after:.0f}s after: {h.reason}",
                    )
                )
        return out

    def unavailable(self) -> dict[str, str]:
        return {n: h.reason for n, h in self.clusters.items() if not h.available}
