"""The planner's inputs: the platform catalog, localities' demands, server SKUs, the policy."""

from __future__ import annotations

from dataclasses import dataclass, field

from tongchou.divisions import Level


@dataclass(frozen=True, slots=True)
class Amount:
    """CPU in millicores and memory in bytes."""

    cpu_milli: int = 0
    memory_bytes: int = 0


@dataclass(frozen=True, slots=True)
class PlatformInstance:
    """A running instance of a platform at a site, and the divisions it already serves."""

    site: str
    tenants: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Platform:
    """A shared platform (统一身份认证, 电子印章, …) that localities reuse or build.

    `base` is one instance's fixed footprint; `per_unit` what each demand unit adds (a unit
    is the platform's own measure, e.g. 10,000 accounts); `min_level` the lowest level that
    may host an instance. `mlps_level`, `archs` and `data_class` are what placement needs:
    an instance is judged by the placement policies as the workload it will become; `image`
    is the container image of the Workload documents a plan emits.
    """

    name: str
    display_name: str
    base: Amount
    per_unit: Amount
    build_cost_cny: float
    min_level: Level
    instances: tuple[PlatformInstance, ...] = ()
    unit: str = "unit"
    mlps_level: int = 3
    archs: tuple[str, ...] = ()
    data_class: str = "interactive"
    image: str | None = None


@dataclass(frozen=True, slots=True)
class Demand:
    """A division's need for `units` of a platform."""

    name: str
    division: str
    platform: str
    units: float
    residency: str | None = None
    latency_max_ms: float | None = None


@dataclass(frozen=True, slots=True)
class ServerSku:
    """A server model that can be bought. `cpu_performance` scales its cores to
    reference-core equivalents (cores are not equal across architectures)."""

    name: str
    arch: str
    chip: str
    domestic: bool
    capacity: Amount
    price_cny: float
    power_w: float
    cpu_performance: float = 1.0


@dataclass(frozen=True, slots=True)
class PlanningPolicy:
    """How to size and buy: utilisation target, 信创 share, horizon, growth, redundancy."""

    name: str = "default"
    target_utilization: float = 0.7
    domestic_share_min: float = 0.0
    horizon_years: float = 3.0
    growth_per_year: float = 0.0
    redundancy: str = "n+1"


@dataclass(slots=True)
class PlanningInput:
    """Everything one plan is made from (the fleet comes separately)."""

    platforms: dict[str, Platform] = field(default_factory=dict)
    demands: dict[str, Demand] = field(default_factory=dict)
    skus: dict[str, ServerSku] = field(default_factory=dict)
    policy: PlanningPolicy = field(default_factory=PlanningPolicy)
