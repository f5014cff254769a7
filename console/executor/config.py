"""How the hub runs its executor (no Kubernetes import: the hub reads it at start-up)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from console.executor.failover import FailoverPolicy
from console.executor.manifests import POD_SECURITY_LEVELS


@dataclass(frozen=True, slots=True)
class ExecutorConfig:
    """How the hub applies placements. Durations in seconds."""

    kubeconfig: Path
    interval: float = 10.0
    max_backoff: float = 120.0
    workers: int = 4
    api_qps: float = 20.0  # API calls a second per cluster, on average
    api_burst: int = 40
    policy: FailoverPolicy = field(default_factory=FailoverPolicy)
    move_back_concurrency: int = 2  # workloads moving back at once (make before break)
    adopt: bool = False  # take over Tongchou objects of another identity (and prune them)
    pod_security: str = "restricted"  # the Pod Security level of the namespaces it creates

    def __post_init__(self) -> None:
        if self.interval <= 0:
            raise ValueError(f"the reconcile interval must be positive, got {self.interval}")
        if self.api_qps <= 0 or self.api_burst < 1:
            raise ValueError("--api-qps must be positive and the burst at least 1")
        if self.pod_security not in POD_SECURITY_LEVELS:
            raise ValueError(
                f"--pod-security {self.pod_security!r} is not one of "
                + ", ".join(POD_SECURITY_LEVELS)
            )
        if self.move_back_concurrency < 1:
            raise ValueError(
                f"--move-back-concurrency must be at least 1, got {self.move_back_concurrency}"
            )
        if self.workers < 1:
            raise ValueError(f"executor workers must be at least 1, got {self.workers}")
