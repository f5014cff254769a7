"""Divisions, sites and clusters as the console lists them: the fleet documents completed by
what agents report, with node totals and what the placed workloads hold."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from console.hub.api.messages import cluster_message, division_message, site_message
from console.hub.control.workloads import Held, WorkloadRecord, held_by_cluster
from console.hub.fleet.inventory import Inventory, Totals
from console.hub.fleet.view import live_fleet
from console.model.fleet import Fleet
from tongchou.divisions import ancestors
from tongchou.v1 import inventory_pb2


@dataclass(slots=True)
class _Group:
    totals: Totals = field(default_factory=Totals)
    held: Held = field(default_factory=Held)
    archs: set[str] = field(default_factory=set)


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
                group.held.add(held)

        clusters = []
        site_clusters: dict[str, list[str]] = {}
        site_mlps: dict[str, int] = {}
        for name in sorted(fleet.clusters):
            c = fleet.clusters[name]
            site = fleet.sites[c.site]
            site_clusters.setdefault(c.site, []).append(name)
            site_mlps[c.site] = max(site_mlps.get(c.site, 0), c.mlps_level)
            group = by_cluster[name]
            clusters.append(cluster_message(c, site, group.totals, group.held, group.archs))
        sites = []
        for name in sorted(fleet.sites):
            s = fleet.sites[name]
            group = by_site[name]
            mlps = site_mlps.get(name, 0)
            members = site_clusters.get(name, [])
            sites.append(site_message(s, members, mlps, group.totals, group.held, group.archs))
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
            sites_in, clusters_in = site_count.get(code, 0), cluster_count.get(code, 0)
            divisions.append(division_message(d, by_division[code], sites_in, clusters_in))
        return cls(divisions, sites, clusters)
