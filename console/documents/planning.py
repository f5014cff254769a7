"""The planner's kinds (Platform, Demand, ServerSku, PlanningPolicy) and their conversion."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from console.documents.errors import DocumentError
from console.documents.fields import Bytes, Code, Cpu, Int, Number, Text, between, invalid, positive
from console.documents.kinds import Document, Issue, Kind, Ref, SpecModel, register
from console.documents.source import FieldPath, field_name
from console.documents.specs import Arch
from console.model.planning import (
    Amount,
    Demand,
    PlanningInput,
    PlanningPolicy,
    Platform,
    PlatformInstance,
    ServerSku,
)
from tongchou.divisions import Level, contains

HostLevel = Literal["province", "city", "county", "township"]
Redundancy = Literal["n+1", "none", "site"]
DataClassName = Literal["realtime", "interactive", "batch", "offline", "backup"]


def above(low: float, high: float | None = None) -> AfterValidator:
    """A number more than `low` (exclusive) and at most `high` (inclusive) when given."""

    def check(value: Any) -> Any:
        if value <= low:
            raise invalid(f"must be more than {low:g}, got {value:g}")
        if high is not None and value > high:
            raise invalid(f"must be more than {low:g} and at most {high:g}, got {value:g}")
        return value

    return AfterValidator(check)


class SizeSpec(SpecModel):
    """A fixed amount of resources: cpu and memory, both more than 0."""

    cpu: Annotated[Cpu, positive("cpu")]
    memory: Annotated[Bytes, positive("memory")]


class PerUnitSpec(SpecModel):
    """What one demand unit adds: cpu and memory, each 0 or more (not both 0)."""

    cpu: Cpu = 0
    memory: Bytes = 0


class InstanceSpec(SpecModel):
    """A running instance of a platform: the site it runs at and the divisions it serves."""

    site: Text
    tenants: list[Code] = Field(default_factory=list)


class PlatformSpec(SpecModel):
    """A shared platform of the catalog (统一身份认证, 电子印章, …)."""

    display_name: Text
    unit: Text | None = None
    base_resources: SizeSpec
    per_unit: PerUnitSpec
    build_cost_cny: Annotated[Number, between(0)]
    min_level: HostLevel
    mlps_level: Annotated[Int, between(1, 4)] = 3
    archs: list[Arch] = Field(default_factory=list)
    data_class: DataClassName = "interactive"
    image: Text | None = None
    instances: list[InstanceSpec] = Field(default_factory=list)

    def references(self, name: str) -> Iterable[Ref]:
        for i, instance in enumerate(self.instances):
            yield Ref(("spec", "instances", i, "site"), "Site", instance.site)
            for j, tenant in enumerate(instance.tenants):
                yield Ref(("spec", "instances", i, "tenants", j), "Division", tenant)

    def check(self, name: str) -> Iterable[Issue]:
        if self.per_unit.cpu == 0 and self.per_unit.memory == 0:
            yield ("spec", "perUnit"), "cpu and memory are both 0: give what one unit adds"
        sites: dict[str, int] = {}
        for i, instance in enumerate(self.instances):
            first = sites.setdefault(instance.site, i)
            if first != i:
                yield (
                    ("spec", "instances", i, "site"),
                    f'site "{instance.site}" already has an instance (instances[{first}])',
                )
            seen: set[str] = set()
            for j, tenant in enumerate(instance.tenants):
                if tenant in seen:
                    yield ("spec", "instances", i, "tenants", j), f"tenant {tenant} is listed twice"
                seen.add(tenant)


class DemandSpec(SpecModel):
    """A division's need for `units` of a platform."""

    division: Code
    platform: Text
    units: Annotated[Number, above(0)]
    residency: Code | None = None
    latency_max_ms: Annotated[Number, above(0)] | None = None

    def references(self, name: str) -> Iterable[Ref]:
        yield Ref(("spec", "division"), "Division", self.division)
        yield Ref(("spec", "platform"), "Platform", self.platform)
        if self.residency is not None:
            yield Ref(("spec", "residency"), "Division", self.residency)

    def check(self, name: str) -> Iterable[Issue]:
        if self.residency is not None and not contains(self.residency, self.division):
            yield (
                ("spec", "residency"),
                f"{self.residency} does not contain the demand's division {self.division}",
            )


class ServerSkuSpec(SpecModel):
    """A server model that can be bought, with its price and power draw."""

    arch: Arch
    chip: Text
    domestic: bool = Field(strict=True)
    capacity: SizeSpec
    price_cny: Annotated[Number, above(0)]
    power_w: Annotated[Number, above(0)]
    cpu_performance: Annotated[Number, above(0, 4)] = 1.0


class PlanningPolicySpec(SpecModel):
    """How to size and buy: utilisation target, 信创 share, horizon, growth, redundancy."""

    target_utilization: Annotated[Number, above(0, 1)] = 0.7
    domestic_share_min: Annotated[Number, between(0, 1)] = 0.0
    horizon_years: Annotated[Number, above(0, 15)] = 3.0
    growth_per_year: Annotated[Number, between(0, 5)] = 0.0
    redundancy: Redundancy = "n+1"


def _amount(spec: SizeSpec | PerUnitSpec) -> Amount:
    return Amount(cpu_milli=spec.cpu, memory_bytes=spec.memory)


def _platform(doc: Document) -> Iterator[Platform]:
    spec = doc.spec_as(PlatformSpec)
    yield Platform(
        name=doc.name,
        display_name=spec.display_name,
        base=_amount(spec.base_resources),
        per_unit=_amount(spec.per_unit),
        build_cost_cny=spec.build_cost_cny,
        min_level=Level(spec.min_level),
        instances=tuple(PlatformInstance(i.site, tuple(i.tenants)) for i in spec.instances),
        unit=spec.unit or "unit",
        mlps_level=spec.mlps_level,
        archs=tuple(spec.archs),
        data_class=spec.data_class,
        image=spec.image,
    )


def _demand(doc: Document) -> Iterator[Demand]:
    spec = doc.spec_as(DemandSpec)
    yield Demand(
        name=doc.name,
        division=spec.division,
        platform=spec.platform,
        units=spec.units,
        residency=spec.residency,
        latency_max_ms=spec.latency_max_ms,
    )


def _sku(doc: Document) -> Iterator[ServerSku]:
    spec = doc.spec_as(ServerSkuSpec)
    yield ServerSku(
        name=doc.name,
        arch=spec.arch,
        chip=spec.chip,
        domestic=spec.domestic,
        capacity=_amount(spec.capacity),
        price_cny=spec.price_cny,
        power_w=spec.power_w,
        cpu_performance=spec.cpu_performance,
    )


def _policy(doc: Document) -> Iterator[PlanningPolicy]:
    spec = doc.spec_as(PlanningPolicySpec)
    yield PlanningPolicy(
        name=doc.name,
        target_utilization=spec.target_utilization,
        domestic_share_min=spec.domestic_share_min,
        horizon_years=spec.horizon_years,
        growth_per_year=spec.growth_per_year,
        redundancy=spec.redundancy,
    )


PLATFORM = register(Kind("Platform", PlatformSpec, _platform))
DEMAND = register(Kind("Demand", DemandSpec, _demand))
SERVER_SKU = register(Kind("ServerSku", ServerSkuSpec, _sku))
PLANNING_POLICY = register(Kind("PlanningPolicy", PlanningPolicySpec, _policy))


class PlanningInputError(ValueError):
    """Problems across planning documents that no single document shows; `errors` name the
    file, document, field and line of each."""

    def __init__(self, errors: Sequence[DocumentError]) -> None:
        self.errors: list[DocumentError] = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


def _error(doc: Document, path: FieldPath, message: str) -> DocumentError:
    return DocumentError(
        doc.file, doc.index, doc.kind, doc.name, field_name(path), doc.line_of(path), message
    )


def _where(doc: Document) -> str:
    line = doc.line_of(("metadata", "name"))
    place = f"{doc.file}:{line}" if line is not None else str(doc.file)
    return f"{place} (document {doc.index})"


def planning_input(documents: Iterable[Document]) -> PlanningInput:
    """The platforms, demands, server SKUs and policy of `documents` (other kinds ignored).

    The documents must have passed the loader's checks. Raises PlanningInputError when there
    is more than one PlanningPolicy, or when the policy asks for a domestic share that no
    ServerSku can give. Demands without any ServerSku are allowed (nothing can be bought).
    """
    result = PlanningInput()
    policies: list[Document] = []
    for doc in documents:
        if doc.kind == PLATFORM.name:
            result.platforms.update((p.name, p) for p in _platform(doc))
        elif doc.kind == DEMAND.name:
            result.demands.update((d.name, d) for d in _demand(doc))
        elif doc.kind == SERVER_SKU.name:
            result.skus.update((s.name, s) for s in _sku(doc))
        elif doc.kind == PLANNING_POLICY.name:
            policies.append(doc)
    errors = [
        _error(
            extra,
            ("metadata", "name"),
            f'a second PlanningPolicy: "{policies[0].name}" is declared at {_where(policies[0])}; '
            "an input holds at most one",
        )
        for extra in policies[1:]
    ]
    if policies:
        result.policy = next(_policy(policies[0]))
        share = result.policy.domestic_share_min
        if share > 0 and not any(sku.domestic for sku in result.skus.values()):
            errors.append(
                _error(
                    policies[0],
                    ("spec", "domesticShareMin"),
                    f"domesticShareMin is {share:g} but no ServerSku is domestic: "
                    "the share cannot be met",
                )
            )
    if errors:
        raise PlanningInputError(errors)
    return result
