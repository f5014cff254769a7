"""Hand-made fleets and workloads for the scheduler tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from console.model.fleet import Cluster, Fleet, Node, Resources, Site
from console.model.workload import DataClass, PlacementPolicy, Workload

from .strategies import DEFAULT_POLICIES, DIVISIONS, GIB

POLICY = {p.name: p for p in DEFAULT_POLICIES}


def policies(*names: str) -> list[PlacementPolicy]:
    """Default policies by name, in the order given."""
    return [POLICY[name] for name in names]


@dataclass(frozen=True, slots=True)
class N:
    """Nodes of a cluster: `count` alike, cores and GiB each, some already allocated."""

    arch: str = "x86_64"
    chip: str = "intel-xeon"
    cpu: int = 32
    memory: int = 128
    used_cpu: int = 0
    used_memory: int = 0
    count: int = 1


@dataclass(frozen=True, slots=True)
class C:
    name: str
    site: str
    mlps: int = 3
    shared: bool = True
    nodes: tuple[N, ...] = (N(),)


@dataclass(frozen=True, slots=True)
class S:
    name: str
    division: str = "440000"
    price: float = 0.6
    pue: float = 1.3


@dataclass(slots=True)
class FleetBuilder:
    sites: list[S] = field(default_factory=list)
    clusters: list[C] = field(default_factory=list)

    def build(self) -> Fleet:
        sites = {
            s.name: Site(s.name, s.division, "cloud", None, s.price, s.pue) for s in self.sites
        }
        clusters = {c.name: Cluster(c.name, c.site, c.mlps, c.shared) for c in self.clusters}
        nodes: dict[str, Node] = {}
        for c in self.clusters:
            i = 0
            for spec in c.nodes:
                for _ in range(spec.count):
                    name = f"{c.name}-{i:02d}"
                    nodes[name] = Node(
                        name,
                        c.name,
                        spec.arch,
                        spec.chip,
                        Resources(spec.cpu * 1000, spec.memory * GIB),
                        Resources(spec.used_cpu * 1000, spec.used_memory * GIB),
                    )
                    i += 1
        return Fleet(dict(DIVISIONS), sites, clusters, nodes)


def fleet(clusters: list[C], sites: list[S] | None = None) -> Fleet:
    """Clusters; sites not given are made in the province."""
    given = {s.name: s for s in sites or []}
    for c in clusters:
        given.setdefault(c.site, S(c.site))
    return FleetBuilder(list(given.values()), clusters).build()


def workload(
    name: str = "app",
    *,
    owner: str = "440000",
    replicas: int = 3,
    cpu: float = 1,
    memory: float = 1,
    mlps: int = 1,
    archs: tuple[str, ...] = (),
    chips: tuple[str, ...] = (),
    residency: str | None = None,
    min_sites: int = 1,
    data_class: DataClass = DataClass.INTERACTIVE,
) -> Workload:
    """A workload; cpu in cores, memory in GiB."""
    return Workload(
        name=name,
        owner=owner,
        replicas=replicas,
        cpu_milli=round(cpu * 1000),
        memory_bytes=round(memory * GIB),
        image="registry.example/app:1",
        mlps_level=mlps,
        archs=archs,
        chips=chips,
        residency=residency,
        min_sites=min_sites,
        data_class=data_class,
    )
