"""The inventory store interface: what the hub persists and reads back after a restart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from console.model.inventory import Event
from console.model.replicas import Replicas


@dataclass(frozen=True, slots=True)
class StoredNode:
    """A node's row. `identity`, `capacity` and `usage` are opaque serialized wire messages."""

    name: str
    division: str
    site: str
    cluster: str
    state: str
    first_seen: float
    last_seen: float
    run_id: str
    sequence: int
    interval: float
    identity: bytes
    capacity: bytes
    usage: bytes
    boot_time: float


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A fleet document (Division, Site, Cluster) the hub was given, as JSON."""

    kind: str
    name: str
    body: str


@dataclass(frozen=True, slots=True)
class StoredWorkload:
    """A submitted workload (its YAML document) and its newest placement."""

    name: str
    document: str
    submitted_at: float
    placed: Replicas
    pending: int
    reason: str
    summary: str
    generation: int
    scheduled_at: float


class InventoryStore(Protocol):
    """What the hub needs of a store. Writes come in batches; each batch is atomic."""

    def load_nodes(self) -> list[StoredNode]: ...

    def load_documents(self) -> list[StoredDocument]: ...

    def write_batch(self, nodes: Sequence[StoredNode], events: Sequence[Event]) -> None: ...

    def replace_documents(self, documents: Sequence[StoredDocument]) -> None: ...

    def load_workloads(self) -> list[StoredWorkload]: ...

    def save_workload(self, workload: StoredWorkload) -> None: ...

    def save_placements(self, workloads: Sequence[StoredWorkload]) -> None: ...

    def delete_workload(self, name: str) -> bool: ...

    def recent_events(self, limit: int) -> list[Event]: ...

    def prune_events(self, keep: int) -> int: ...

    def close(self) -> None: ...
