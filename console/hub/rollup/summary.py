"""A province's division-level summary from the live inventory: capacity, usage, idle cores,
信创 cores, and the shared platforms each division hosts with their tenants — no node data."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from console.hub.fleet.inventory import NodeEntry
from console.model.fleet import Division
from console.model.inventory import NodeState
from console.model.planning import Platform
from tongchou import levels
from tongchou.divisions import DivisionCodeError, Level, contains, level_of
from tongchou.v1 import rollup_pb2
from tongchou.xinchuang import is_domestic


@dataclass(frozen=True, slots=True)
class Province:
    """Who reports: the province's code and display name."""

    code: str
    name: str


def province_of(divisions: Mapping[str, Division], given: str = "") -> Province:
    """The province a hub reports for: `given` (a code), else the fleet's one province-level
    division. Raises ValueError saying what is missing."""
    if given:
        try:
            level = level_of(given)
        except DivisionCodeError as err:
            raise ValueError(f"--province: {err}") from None
        if level is not Level.PROVINCE:
            raise ValueError(f"--province {given} is a {level.value} code, not a province's")
        known = divisions.get(given)
        return Province(given, known.name if known else given)
    tops = sorted(d.code for d in divisions.values() if d.level == Level.PROVINCE)
    if len(tops) != 1:
        found = ", ".join(tops) or "none"
        raise ValueError(
            "--upstream needs the province this hub reports for: give --province CODE or fleet"
            f" documents with one province-level Division (found {found})"
        )
    return Province(tops[0], divisions[tops[0]].name)


@dataclass(slots=True)
class _Sum:
    nodes: int = 0
    ready: int = 0
    cpu: float = 0.0
    cpu_used: float = 0.0
    memory: int = 0
    memory_used: int = 0
    domestic: float = 0.0
    idle: float = 0.0

    def add(self, entry: NodeEntry) -> None:
        cap, use, ident = entry.report.capacity, entry.report.usage, entry.report.identity
        self.nodes += 1
        self.cpu += cap.cpu_logical
        self.memory += cap.memory_bytes
        if is_domestic(ident.arch, ident.chip):
            self.domestic += cap.cpu_logical
        if entry.state is NodeState.LOST:
            return
        used = cap.cpu_logical * use.cpu_ratio
        self.cpu_used += used
        self.memory_used += use.memory_used_bytes
        if entry.state is NodeState.READY:
            self.ready += 1
            self.idle += max(cap.cpu_logical - used, 0.0)

    def merge(self, other: _Sum) -> None:
        for name in _Sum.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def message(self) -> rollup_pb2.RollupCapacity:
        return rollup_pb2.RollupCapacity(
            nodes=self.nodes,
            nodes_ready=self.ready,
            cpu_cores=self.cpu,
            cpu_used_cores=self.cpu_used,
            memory_bytes=self.memory,
            memory_used_bytes=self.memory_used,
            domestic_cpu_cores=self.domestic,
            idle_cpu_cores=self.idle,
        )


@dataclass(frozen=True, slots=True)
class Catalog:
    """What the summary reads besides the nodes: the fleet's divisions and sites, and the
    shared platforms (name → Platform) with their instances."""

    divisions: Mapping[str, Division] = field(default_factory=dict)
    site_divisions: Mapping[str, str] = field(default_factory=dict)  # site → division code
    platforms: Mapping[str, Platform] = field(default_factory=dict)


def build(
    province: Province,
    entries: Iterable[NodeEntry],
    catalog: Catalog,
    *,
    sequence: int,
    run_id: str,
    now: float | None = None,
) -> rollup_pb2.ProvinceSummary:
    """The summary of `entries` (a snapshot of the inventory's nodes): one row per division
    that the documents declare inside the province or that some node reports from."""
    sums: dict[str, _Sum] = {
        code: _Sum() for code in catalog.divisions if contains(province.code, code)
    }
    levels_seen: dict[str, int] = {}
    for entry in entries:
        ident = entry.report.identity
        if not contains(province.code, ident.division):
            continue  # a node outside the province is not the province's to report
        sums.setdefault(ident.division, _Sum()).add(entry)
        levels_seen.setdefault(ident.division, ident.level)
    summary = rollup_pb2.ProvinceSummary(
        province=province.code, name=province.name, sequence=sequence, run_id=run_id
    )
    summary.generated_at.FromNanoseconds(int((time.time() if now is None else now) * 1e9))
    total = _Sum()
    tenancies = _tenancies(catalog)
    for code in sorted(sums):
        total.merge(sums[code])
        known = catalog.divisions.get(code)
        summary.divisions.append(
            rollup_pb2.DivisionSummary(
                code=code,
                name=known.name if known else "",
                level=known.level.value if known else levels.name(levels_seen.get(code, 0)),
                parent=(known.parent or "") if known else "",
                capacity=sums[code].message(),
                platforms=tenancies.get(code, []),
            )
        )
    summary.capacity.CopyFrom(total.message())
    return summary


def _tenancies(catalog: Catalog) -> dict[str, list[rollup_pb2.PlatformTenancy]]:
    """Each division's platform instances (by the division of the instance's site)."""
    out: dict[str, list[rollup_pb2.PlatformTenancy]] = {}
    for name in sorted(catalog.platforms):
        platform = catalog.platforms[name]
        for instance in platform.instances:
            division = catalog.site_divisions.get(instance.site)
            if division is None:
                continue
            out.setdefault(division, []).append(
                rollup_pb2.PlatformTenancy(
                    platform=name,
                    display_name=platform.display_name,
                    site=instance.site,
                    tenants=sorted(instance.tenants),
                )
            )
    return out
