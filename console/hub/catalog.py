"""Divisions, sites and clusters as the console lists them: the fleet documents completed by
what agents report, with node totals and what the placed workloads hold."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from console.hub.fleetview import live_fleet
from console.hub.inventory import Inventory, Totals
from console.hub.workloads import WorkloadRecord, held_by_cluster
from console.model.fleet import Fleet
from tongchou import levels
from tongchou.divisions import ancestors
from tongchou.v1 import inventory_pb2


@dataclass(slots=True)
class _Group:
    totals: Totals = field(default_factory=Totals)
    cpu_milli: int = 0
    memory_bytes: int = 0
    replicas: int = 0
    archs: set[str] = field(default_factory=set)

    def allocation(self) -> inventory_pb2.Allocation:
        return inventory_pb2.Allocation(
            cpu_allocated_cores=self.cpu_milli / 1000,
            memory_allocated_bytes=self.memory_bytes,
            replicas=self.replicas,
            archs=sorted(self.archs),
        )


def totals_message(t: Totals) -> inventory_pb2.FleetTotals:
    return inventory_pb2.FleetTotals(
        nodes_ready=t.ready,
        nodes_stale=t.stale,
        nodes_lost=t.lost,
        cpu_cores=t.cpu_cores,
        cpu_used_cores=t.cpu_used_cores,
        memory_bytes=t.memory_bytes,
        memory_used_bytes=t.memory_used_bytes,
    )


@dataclass(slots=True)
class Catalog:
    """One consistent pass over documents, inventory and placements."""

    divisions: list[inventory_pb2.Division]
    sites: list[inventory_pb2.Site]
    clusters: list[inventory_pb2.Cluster]

    @classmethod
    def build(
        cls, documents: Fleet, inventory: Inventory, records: Iterable[WorkloadRecord]
    ) -> Catalog:
        fleet = live_fleet(documents, inventory, with_nodes=False)
        by_cluster: dict[str, _Group] = {name: _Group() for name in fleet.clusters}
        by_site: dict[str, _Group] = {name: _Group() for name in fleet.sites}
        by_division: dict[str, Totals] = {code: Totals() for code in fleet.divisions}
        for entry in inventory.nodes.values():
            ident = entry.report.identity
            for group in (by_cluster[ident.cluster], by_site[ident.site]):
                group.totals.add(entry)
                group.archs.add(ident.arch)
            for code in (ident.division, *ancestors(ident.division)):
                if code in by_division:
                    by_division[code].add(entry)
        for name, held in held_by_cluster(records).items():
            cluster = fleet.clusters.get(name)
            if cluster is None:
                continue
            for group in (by_cluster[name], by_site[cluster.site]):
                group.cpu_milli += held.cpu_milli
                group.memory_bytes += held.memory_bytes
                group.replicas += held.replicas

        clusters = []
        site_clusters: dict[str, list[str]] = {}
        site_mlps: dict[str, int] = {}
        for name in sorted(fleet.clusters):
            c = fleet.clusters[name]
            site = fleet.sites[c.site]
            site_clusters.setdefault(c.site, []).append(name)
            site_mlps[c.site] = max(site_mlps.get(c.site, 0), c.mlps_level)
            group = by_cluster[name]
            clusters.append(
                inventory_pb2.Cluster(
                    name=name,
                    site=c.site,
                    division=site.division,
                    provider=site.provider,
                    mlps_level=c.mlps_level,
                    shared=c.shared,
                    kube_context=c.kube_context or "",
                    totals=totals_message(group.totals),
                    allocation=group.allocation(),
                )
            )
        sites = []
        for name in sorted(fleet.sites):
            s = fleet.sites[name]
            group = by_site[name]
            sites.append(
                inventory_pb2.Site(
                    name=name,
                    division=s.division,
                    provider=s.provider,
                    compute_hub=s.compute_hub or "",
                    power_price_cny_per_kwh=s.power_price_cny_per_kwh,
                    pue=s.pue,
                    free_server_slots=s.free_server_slots,
                    clusters=site_clusters.get(name, []),
                    totals=totals_message(group.totals),
                    allocation=group.allocation(),
                    mlps_level=site_mlps.get(name, 0),
                )
            )
        site_count: dict[str, int] = {}
        cluster_count: dict[str, int] = {}
        for s in fleet.sites.values():
            for code in (s.division, *ancestors(s.division)):
                site_count[code] = site_count.get(code, 0) + 1
                cluster_count[code] = cluster_count.get(code, 0) + len(
                    site_clusters.get(s.name, ())
                )
        divisions = []
        for code in sorted(fleet.divisions):
            d = fleet.divisions[code]
            divisions.append(
                inventory_pb2.Division(
                    code=code,
                    name=d.name,
                    level=levels.to_wire(d.level),
                    parent=d.parent or "",
                    totals=totals_message(by_division[code]),
                    sites=site_count.get(code, 0),
                    clusters=cluster_count.get(code, 0),
                )
            )
        return cls(divisions, sites, clusters)
