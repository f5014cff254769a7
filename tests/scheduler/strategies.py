"""Hypothesis strategies: small fleets, workloads and policy sets for the scheduler."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from hypothesis import strategies as st

from console.documents import load_documents, policies_of
from console.model.fleet import Cluster, Division, Fleet, Node, Resources, Site
from console.model.workload import DataClass, PlacementPolicy, Workload
from tongchou.divisions import Level

from .oracle import Extra

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
DEFAULT_POLICIES: list[PlacementPolicy] = policies_of(load_documents([POLICIES]))
DEFAULT_NAMES = [p.name for p in DEFAULT_POLICIES]

T = TypeVar("T")
GIB = 1 << 30
MIB = 1 << 20

DIVISIONS: dict[str, Division] = {
    "440000": Division("440000", "广东省", Level.PROVINCE, None),
    "440100": Division("440100", "广州市", Level.CITY, "440000"),
    "440300": Division("440300", "深圳市", Level.CITY, "440000"),
    "440106": Division("440106", "天河区", Level.COUNTY, "440100"),
    "440305": Division("440305", "南山区", Level.COUNTY, "440300"),
}
CODES = sorted(DIVISIONS)
CHIPS = {"x86_64": ("intel-xeon", "hygon-7380"), "aarch64": ("kunpeng-920", "phytium-s2500")}
ALL_CHIPS = sorted(c for chips in CHIPS.values() for c in chips)


@st.composite
def nodes_of(draw: st.DrawFn, cluster: str) -> list[Node]:
    out = []
    for i in range(draw(st.integers(1, 6))):
        arch = draw(st.sampled_from(sorted(CHIPS)))
        cpu = draw(st.integers(4, 64)) * 1000
        memory = draw(st.integers(8, 256)) * GIB
        busy = draw(st.booleans())
        used_cpu = draw(st.integers(0, cpu // 500)) * 500 if busy else 0
        used_memory = draw(st.integers(0, memory // GIB)) * GIB if busy else 0
        out.append(
            Node(
                f"{cluster}-n{i}",
                cluster,
                arch,
                draw(st.sampled_from(CHIPS[arch])),
                Resources(cpu, memory),
                Resources(used_cpu, used_memory),
            )
        )
    return out


@st.composite
def fleets(draw: st.DrawFn, max_clusters: int = 8) -> Fleet:
    """1 province, 2 cities, 2 counties; 1–5 sites; 2–`max_clusters` clusters of 1–6 nodes."""
    site_count = draw(st.integers(1, 5))
    sites = {
        f"s{i}": Site(
            f"s{i}",
            draw(st.sampled_from(["440000", "440000", *CODES])),
            "cloud",
            power_price_cny_per_kwh=draw(st.integers(30, 90)) / 100,
            pue=draw(st.integers(110, 160)) / 100,
        )
        for i in range(site_count)
    }
    clusters: dict[str, Cluster] = {}
    nodes: dict[str, Node] = {}
    for i in range(draw(st.integers(2, max_clusters))):
        name = f"c{i}"
        clusters[name] = Cluster(
            name,
            draw(st.sampled_from(sorted(sites))),
            draw(st.integers(1, 4)),
            shared=draw(st.booleans()),
        )
        nodes.update((n.name, n) for n in draw(nodes_of(name)))
    return Fleet(dict(DIVISIONS), sites, clusters, nodes)


SHAPES = st.tuples(
    st.integers(1, 32).map(lambda n: n * 500), st.integers(1, 64).map(lambda n: n * 512 * MIB)
)
"""(cpu_milli, memory_bytes) of one replica."""


@st.composite
def workloads(
    draw: st.DrawFn,
    name: str = "w",
    max_replicas: int = 12,
    shapes: list[tuple[int, int]] | None = None,
) -> Workload:
    cpu, memory = draw(st.sampled_from(shapes) if shapes else SHAPES)
    archs = draw(st.lists(st.sampled_from(sorted(CHIPS)), unique=True, max_size=2))
    chips = draw(st.sampled_from([[], [], [], *[[c] for c in ALL_CHIPS], ALL_CHIPS[:2]]))
    return Workload(
        name=name,
        owner=draw(st.sampled_from(CODES)),
        replicas=draw(st.integers(0, max_replicas)),
        cpu_milli=cpu,
        memory_bytes=memory,
        image="registry.example/app:1",
        mlps_level=draw(st.sampled_from([1, 1, 2, 2, 3, 4])),
        archs=tuple(archs),
        chips=tuple(chips),
        residency=draw(st.sampled_from([None, None, None, *CODES])),
        min_sites=draw(st.sampled_from([1, 1, 2, 3])),
        data_class=draw(st.sampled_from(list(DataClass))),
    )


EXTRAS = st.one_of(
    st.builds(Extra, st.just("min-nodes"), st.integers(1, 4)),
    st.builds(Extra, st.just("half-memory")),
    st.builds(Extra, st.just("prefer-nodes"), st.just(1), st.sampled_from([0.5, 1.0, 3.0])),
    st.builds(Extra, st.just("prefer-fit"), st.just(1), st.sampled_from([0.5, 1.0, 3.0])),
    st.builds(Extra, st.just("cap"), st.integers(1, 3)),
)


@dataclass(frozen=True, slots=True)
class Scenario:
    fleet: Fleet
    workloads: list[Workload]
    defaults: list[str]  # names of the default policies in use, in file order
    extras: list[Extra]

    @property
    def policies(self) -> list[PlacementPolicy]:
        chosen = [p for p in DEFAULT_POLICIES if p.name in self.defaults]
        return chosen + [x.policy() for x in self.extras]


@st.composite
def scenarios(
    draw: st.DrawFn,
    max_clusters: int = 8,
    max_workloads: int = 4,
    max_replicas: int = 12,
    min_sites: int | None = None,
) -> Scenario:
    fleet = draw(fleets(max_clusters))
    count = draw(st.integers(1, max_workloads))
    # Few shapes per scenario, so that cached policy results are reused across workloads.
    shapes = draw(st.lists(SHAPES, min_size=1, max_size=2))
    placed = [draw(workloads(f"w{i}", max_replicas, shapes)) for i in range(count)]
    if min_sites is not None:
        placed = [replace(w, min_sites=min_sites) for w in placed]
    defaults = [name for name in DEFAULT_NAMES if draw(st.booleans())]
    extras = draw(st.lists(EXTRAS, max_size=2, unique_by=lambda x: x.name))
    return Scenario(fleet, placed, defaults, extras)


def shuffled(fleet: Fleet, rng: random.Random) -> Fleet:
    """The same fleet with every dict's insertion order shuffled."""

    def mix(d: dict[str, T]) -> dict[str, T]:
        items = list(d.items())
        rng.shuffle(items)
        return dict(items)

    return Fleet(mix(fleet.divisions), mix(fleet.sites), mix(fleet.clusters), mix(fleet.nodes))
