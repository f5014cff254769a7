"""Spec models of the fleet kinds: Division, Site, Cluster, Node and NodePool."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated, Literal, get_args

from pydantic import Field

from console.documents.fields import (
    Code,
    Cpu,
    Disk,
    Int,
    Memory,
    Number,
    Text,
    Whole,
    amount_text,
    between,
    positive,
)
from console.documents.kinds import DNS_MAX, Issue, Ref, SpecModel, StatusModel
from tongchou.divisions import Level, level_of, parent_candidates

ComputeHub = Literal[
    "jingjinji", "changsanjiao", "yuegangao", "chengyu", "neimenggu", "guizhou", "gansu", "ningxia"
]
Arch = Literal["x86_64", "aarch64", "loongarch64", "sw_64", "riscv64"]

COMPUTE_HUBS: tuple[str, ...] = get_args(ComputeHub)
"""The eight national computing hubs of 东数西算."""

ARCHS: tuple[str, ...] = get_args(Arch)
"""CPU architectures as `uname -m` prints them."""

MAX_POOL = 100_000
"""A NodePool's largest `count`: a typo must not make the loader build a billion nodes."""

MAX_SLOTS = 100_000
"""A site's most `freeServerSlots`."""

MAX_POWER_PRICE = 100.0
"""The highest `powerPriceCnyPerKwh` (yuan per kWh)."""


class DivisionSpec(SpecModel):
    """A division; its metadata.name is its GB/T 2260 code."""

    name: Text
    level: Level | None = None
    parent: Code | None = None

    def references(self, name: str) -> Iterable[Ref]:
        if self.parent is not None and level_of(name).rank > Level.PROVINCE.rank:
            yield Ref(("spec", "parent"), "Division", self.parent)

    def check(self, name: str) -> Iterable[Issue]:
        level = level_of(name)
        if self.level is not None and self.level is not level:
            yield ("spec", "level"), f"must be {level} for code {name}, got {self.level}"
        candidates = parent_candidates(name)
        expected = " or ".join(candidates)
        if self.parent is None:
            if level.rank > Level.PROVINCE.rank:
                yield ("spec", "parent"), f"required for a {level}; expected {expected}"
        elif not candidates:
            yield ("spec", "parent"), f"the nation has no parent, got {self.parent}"
        elif self.parent not in candidates:
            yield (
                ("spec", "parent"),
                f"{self.parent} cannot be the parent of {name}; expected {expected}",
            )


class SiteSpec(SpecModel):
    """A data center or vendor cloud region serving one division."""

    division: Code
    provider: Text
    compute_hub: ComputeHub | None = None
    power_price_cny_per_kwh: Annotated[Number, between(0, MAX_POWER_PRICE)] = 0.0
    pue: Annotated[Number, between(1.0, 3.0)] = 1.0
    free_server_slots: Annotated[Int, between(0, MAX_SLOTS)] = 0

    def references(self, name: str) -> Iterable[Ref]:
        yield Ref(("spec", "division"), "Division", self.division)


class ClusterSpec(SpecModel):
    """A resource pool at a site with one 等保 (MLPS) level."""

    site: Text
    mlps_level: Annotated[Int, between(1, 4)]
    shared: bool = Field(default=False, strict=True)
    kube_context: Text | None = None

    def references(self, name: str) -> Iterable[Ref]:
        yield Ref(("spec", "site"), "Site", self.site)


class CapacitySpec(SpecModel):
    """A node's capacity: cpu and memory are required and positive."""

    cpu: Annotated[Cpu, positive("cpu")]
    memory: Annotated[Memory, positive("memory")]
    disk: Disk = 0
    gpu: Whole = 0


class AmountSpec(SpecModel):
    """An amount of resources in use or allocated: every field defaults to 0."""

    cpu: Cpu = 0
    memory: Memory = 0
    disk: Disk = 0
    gpu: Whole = 0


class NodeStatus(StatusModel):
    """Observed state of a node, for offline use: requests allocated and actual usage."""

    allocated: AmountSpec | None = None
    usage: AmountSpec | None = None


class NodeSpec(SpecModel):
    """A server in a cluster."""

    cluster: Text
    arch: Arch
    chip: Text
    capacity: CapacitySpec

    def references(self, name: str) -> Iterable[Ref]:
        yield Ref(("spec", "cluster"), "Cluster", self.cluster)

    def check_status(self, status: StatusModel) -> Iterable[Issue]:
        allocated = status.allocated if isinstance(status, NodeStatus) else None
        if allocated is None:
            return
        for field, unit in (("cpu", "cores"), ("memory", "bytes"), ("disk", "bytes"), ("gpu", "")):
            have, want = getattr(self.capacity, field), getattr(allocated, field)
            if want > have:
                yield (
                    ("status", "allocated", field),
                    f"must be at most the capacity, {amount_text(have, unit)}; "
                    f"got {amount_text(want, unit)}",
                )


class NodePoolSpec(NodeSpec):
    """`count` identical nodes named `<pool>-1` … `<pool>-<count>`."""

    count: Annotated[Int, between(1, MAX_POOL)]

    def declared_names(self, name: str) -> Sequence[str]:
        return [f"{name}-{i}" for i in range(1, self.count + 1)]

    def check(self, name: str) -> Iterable[Issue]:
        longest = f"{name}-{self.count}"
        if len(longest) > DNS_MAX:
            yield (
                ("metadata", "name"),
                f"node name {longest!r} would be longer than {DNS_MAX} characters",
            )
