"""The Workload and PlacementPolicy kinds: specs, CEL checks with positions, conversion."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Annotated, Literal

from pydantic import Field

from console.documents.fields import Code, Cpu, Int, Memory, Number, Text, between, positive
from console.documents.kinds import Document, Issue, Kind, Ref, SpecModel, register
from console.documents.specs import Arch
from console.model.workload import DataClass, PlacementPolicy, PolicyForm, Workload
from console.policy import CelError, ResultKind, compile_expression

MAX_REPLICAS = 10_000


class ResourcesSpec(SpecModel):
    """What one replica asks for."""

    cpu: Annotated[Cpu, positive("cpu")]
    memory: Annotated[Memory, positive("memory")]


class SpreadSpec(SpecModel):
    min_sites: Annotated[Int, between(1, 64)] = 1


class WorkloadSpec(SpecModel):
    """A shared workload owned by a division."""

    owner: Code
    replicas: Annotated[Int, between(0, MAX_REPLICAS)]
    resources: ResourcesSpec
    image: Text
    mlps_level: Annotated[Int, between(1, 4)]
    archs: list[Arch] = Field(default_factory=list)
    chips: list[Text] = Field(default_factory=list)
    residency: Code | None = None
    spread: SpreadSpec = Field(default_factory=SpreadSpec)
    priority: Annotated[Int, between(-1_000_000, 1_000_000)] = 0
    data_class: Literal["realtime", "interactive", "batch", "offline", "backup"] = "interactive"

    def references(self, name: str) -> Iterable[Ref]:
        yield Ref(("spec", "owner"), "Division", self.owner)
        if self.residency is not None:
            yield Ref(("spec", "residency"), "Division", self.residency)


_FORMS = ("require", "prefer", "limit", "spread")
_WANTS = {
    "require": ResultKind.BOOL,
    "prefer": ResultKind.NUMBER,
    "limit": ResultKind.NUMBER,
    "spread": ResultKind.NUMBER,
}


class PlacementPolicySpec(SpecModel):
    """One rule: `match` selects workloads; exactly one of require, prefer, limit, spread."""

    match: Text = "true"
    require: Text | None = None
    prefer: Text | None = None
    limit: Text | None = None
    spread: Text | None = None
    weight: Annotated[Number, between(0, 1000)] = 1.0
    message: Text | None = None

    def form(self) -> tuple[str, str]:
        for form in _FORMS:
            value = getattr(self, form)
            if value is not None:
                return form, value
        return "", ""

    def check(self, name: str) -> Iterable[Issue]:
        given = [form for form in _FORMS if getattr(self, form) is not None]
        if len(given) != 1:
            which = ", ".join(given) if given else "none"
            yield (("spec",), f"give exactly one of require, prefer, limit, spread (got {which})")
            return
        yield from _check_expression(("spec", "match"), self.match, ResultKind.BOOL, True)
        form, source = self.form()
        yield from _check_expression(("spec", form), source, _WANTS[form], form == "spread")


def _check_expression(
    path: tuple[str, ...], source: str, wanted: ResultKind, workload_only: bool
) -> Iterator[Issue]:
    try:
        compiled = compile_expression(source)
    except CelError as err:
        yield (path, f"CEL error {err}")
        return
    got = compiled.expression.return_type().name().lower()
    if compiled.kind is not wanted and got != "dyn":
        article = "an" if got[:1] in "aeiou" else "a"
        yield (path, f"must be a {wanted.value} expression, but {source!r} is {article} {got}")
        return
    if workload_only and not compiled.refs.workload_only:
        yield (path, "may read only `workload` (it is decided once per workload)")


def _workload(doc: Document) -> Iterator[Workload]:
    spec = doc.spec_as(WorkloadSpec)
    yield Workload(
        name=doc.name,
        owner=spec.owner,
        replicas=spec.replicas,
        cpu_milli=spec.resources.cpu,
        memory_bytes=spec.resources.memory,
        image=spec.image,
        mlps_level=spec.mlps_level,
        archs=tuple(spec.archs),
        chips=tuple(spec.chips),
        residency=spec.residency,
        min_sites=spec.spread.min_sites,
        priority=spec.priority,
        data_class=DataClass(spec.data_class),
        labels=dict(doc.labels),
    )


def _policy(doc: Document) -> Iterator[PlacementPolicy]:
    spec = doc.spec_as(PlacementPolicySpec)
    form, source = spec.form()
    line = doc.line_of(("spec", form))
    yield PlacementPolicy(
        name=doc.name,
        form=PolicyForm(form),
        expression=source,
        match=spec.match,
        weight=float(spec.weight),
        message=spec.message or f"{doc.name}: {form} {source}",
        origin=f"{doc.file}:{line}" if line else str(doc.file),
    )


WORKLOAD = register(Kind("Workload", WorkloadSpec, _workload))
PLACEMENT_POLICY = register(Kind("PlacementPolicy", PlacementPolicySpec, _policy))


def workloads_of(documents: Iterable[Document]) -> list[Workload]:
    return [w for doc in documents if doc.kind == "Workload" for w in _workload(doc)]


def policies_of(documents: Iterable[Document]) -> list[PlacementPolicy]:
    return [p for doc in documents if doc.kind == "PlacementPolicy" for p in _policy(doc)]
