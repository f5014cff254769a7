"""The fleet: divisions, sites, clusters and nodes, as the documents and the hub know them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from tongchou.divisions import Level, contains


@dataclass(frozen=True, slots=True)
class Resources:
    """An amount of compute: cpu in millicores, memory and disk in bytes, whole GPUs."""

    cpu_milli: int = 0
    memory_bytes: int = 0
    disk_bytes: int = 0
    gpu: int = 0

    def __add__(self, other: Resources) -> Resources:
        return Resources(
            self.cpu_milli + other.cpu_milli,
            self.memory_bytes + other.memory_bytes,
            self.disk_bytes + other.disk_bytes,
            self.gpu + other.gpu,
        )

    def __sub__(self, other: Resources) -> Resources:
        return Resources(
            self.cpu_milli - other.cpu_milli,
            self.memory_bytes - other.memory_bytes,
            self.disk_bytes - other.disk_bytes,
            self.gpu - other.gpu,
        )


@dataclass(frozen=True, slots=True)
class Division:
    """An administrative division named by its GB/T 2260 code."""

    code: str
    name: str
    level: Level
    parent: str | None


@dataclass(frozen=True, slots=True)
class Site:
    """A data center or a vendor cloud region serving one division."""

    name: str
    division: str
    provider: str
    compute_hub: str | None = None
    power_price_cny_per_kwh: float = 0.0
    pue: float = 1.0
    free_server_slots: int = 0


@dataclass(frozen=True, slots=True)
class Cluster:
    """A resource pool at a site with one 等保 level."""

    name: str
    site: str
    mlps_level: int
    shared: bool = False
    kube_context: str | None = None


@dataclass(frozen=True, slots=True)
class Node:
    """A server in a cluster. `allocated` and `usage` are known offline only from documents."""

    name: str
    cluster: str
    arch: str
    chip: str
    capacity: Resources
    allocated: Resources = Resources()
    usage: Resources | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Fleet:
    """Every division, site, cluster and node of a province, by name (codes for divisions)."""

    divisions: dict[str, Division] = field(default_factory=dict)
    sites: dict[str, Site] = field(default_factory=dict)
    clusters: dict[str, Cluster] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)

    def site_of(self, cluster: str) -> Site:
        return self.sites[self.clusters[cluster].site]

    def division_of(self, cluster: str) -> Division:
        return self.divisions[self.site_of(cluster).division]

    def nodes_in(self, cluster: str) -> Iterator[Node]:
        return (n for n in self.nodes.values() if n.cluster == cluster)

    def clusters_in(self, scope: str) -> Iterator[Cluster]:
        """Clusters whose site lies in the subtree of division `scope`."""
        return (c for c in self.clusters.values() if contains(scope, self.sites[c.site].division))

    def capacity(self, cluster: str) -> Resources:
        total = Resources()
        for node in self.nodes_in(cluster):
            total = total + node.capacity
        return total
