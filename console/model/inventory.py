"""Node liveness states and the events the inventory records."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class NodeState(StrEnum):
    """Liveness of a node as the hub sees it."""

    READY = "ready"
    STALE = "stale"
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to the fleet: a node registered, changed state, or moved."""

    at: float
    kind: str
    node: str
    message: str
