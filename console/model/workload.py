"""Workloads to place, placement policies, and the placements the scheduler decides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class DataClass(StrEnum):
    """A workload's latency class: whether it may cross regions (东数西算)."""

    REALTIME = "realtime"
    INTERACTIVE = "interactive"
    BATCH = "batch"
    OFFLINE = "offline"
    BACKUP = "backup"


@dataclass(frozen=True, slots=True)
class Workload:
    """A shared workload: `replicas` copies of one container, each asking `cpu`/`memory`."""

    name: str
    owner: str
    replicas: int
    cpu_milli: int
    memory_bytes: int
    image: str
    mlps_level: int
    archs: tuple[str, ...] = ()
    chips: tuple[str, ...] = ()
    residency: str | None = None
    min_sites: int = 1
    priority: int = 0
    data_class: DataClass = DataClass.INTERACTIVE
    labels: Mapping[str, str] = field(default_factory=dict)


class PolicyForm(StrEnum):
    """What a placement policy does with its expression."""

    REQUIRE = "require"  # CEL bool: clusters where it is false are removed
    PREFER = "prefer"  # CEL number: a score term, normalised over the candidates, × weight
    LIMIT = "limit"  # CEL number: the most replicas of the workload a cluster may take
    SPREAD = "spread"  # CEL number over the workload: replicas must cover this many sites


@dataclass(frozen=True, slots=True)
class PlacementPolicy:
    """A rule of placement. `match` (CEL over the workload) says which workloads it binds."""

    name: str
    form: PolicyForm
    expression: str
    match: str = "true"
    weight: float = 1.0
    message: str = ""
    origin: str = ""  # file:line it came from, for explanations
    guardrail: bool = False  # a built-in compliance rule, in force unless explicitly off
