"""What the executor knows per cluster, as the API and the metrics ask for it."""

from __future__ import annotations

from typing import Protocol


class ClusterView(Protocol):
    """Ready replicas and health per cluster, when the executor runs."""

    def ready_of(self, cluster: str, workload: str) -> int | None: ...

    def health_of(self, cluster: str) -> str: ...

    def available(self) -> dict[str, bool]: ...
