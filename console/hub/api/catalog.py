"""Divisions, sites and clusters as the console lists them: the fleet documents completed by
what agents report, with node totals and what the placed workloads hold.

The node side (totals and architectures per cluster, site and division) is kept until the
inventory or the documents change; what workloads hold is summed on each call (placements
change outside the inventory), and only the asked entries become messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from console.hub.api.messages import (
    cluster_message,
    division_message,
    platform_instance_message,
    site_message,
)
from console.hub.control.workloads import Held, WorkloadRecord, held_by_cluster
from console.hub.fleet.inventory import Inventory, Totals
from console.hub.fleet.view import LiveFleet
from console.model.fleet import Fleet
from console.model.planning import Platform
from tongchou.divisions import ancestors, contains
from tongchou.v1 import inventory_pb2

_Held = tuple[dict[str, Held], dict[str, Held]]


@dataclass(slots=True)
class _Group:
    totals: Totals = field(default_factory=Totals)
    archs: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Tables:
    """One consistent pass over the live fleet and the nodes."""

    fleet: Fleet
    clusters: dict[str, _Group]
    sites: dict[str, _Group]
    divisions: dict[str, Totals]
    site_clusters: dict[str, list[str]] = field(default_factory=dict)
    site_mlps: dict[str, int] = field(default_factory=dict)
    site_count: dict[str, int] = field(default_factory=dict)
    cluster_count: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, fleet: Fleet, inventory: Inventory) -> _Tables:
        out = cls(
            fleet,
            {name: _Group() for name in fleet.clusters},
            {name: _Group() for name in fleet.sites},
            {code: Totals() for code in fleet.divisions},
        )
        for entry in inventory.nodes.values():
            ident = entry.report.identity
            for group in (out.clusters[ident.cluster], out.sites[ident.site]):
                group.totals.add(entry)
                group.archs.add(ident.arch)
            for code in (ident.division, *ancestors(ident.division)):
                if code in out.divisions:
                    out.divisions[code].add(entry)
        for name in sorted(fleet.clusters):
            c = fleet.clusters[name]
            out.site_clusters.setdefault(c.site, []).append(name)
            out.site_mlps[c.site] = max(out.site_mlps.get(c.site, 0), c.mlps_level)
        for s in fleet.sites.values():
            for code in (s.division, *ancestors(s.division)):
                out.site_count[code] = out.site_count.get(code, 0) + 1
                out.cluster_count[code] = out.cluster_count.get(code, 0) + len(
                    out.site_clusters.get(s.name, ())
                )
        return out


class Catalog:
    """The catalog of the hub's documents and inventory; each call answers as of now."""

    def __init__(self, inventory: Inventory, live: LiveFleet | None = None) -> None:
        self.inventory = inventory
        self.live = live or LiveFleet(inventory)
        self._key: tuple[Fleet | None, int] = (None, -1)
        self._tables: _Tables | None = None
        self.builds = 0  # how often the node side was summed afresh
        self._site_mlps: tuple[Fleet | None, dict[str, int]] = (None, {})

    def _of(self, documents: Fleet) -> _Tables:
        key = (documents, self.inventory.version)
        if self._tables is None or key[0] is not self._key[0] or key[1] != self._key[1]:
            self._tables = _Tables.build(self.live.get(documents), self.inventory)
            self._key = key
            self.builds += 1
        return self._tables

    def divisions(self, documents: Fleet) -> list[inventory_pb2.Division]:
        t = self._of(documents)
        return [self._division(t, code) for code in sorted(t.fleet.divisions)]

    def division(self, documents: Fleet, code: str) -> inventory_pb2.Division | None:
        t = self._of(documents)
        return self._division(t, code) if code in t.fleet.divisions else None

    def sites(
        self, documents: Fleet, records: Iterable[WorkloadRecord]
    ) -> list[inventory_pb2.Site]:
        t = self._of(documents)
        held = self._held(t, records)
        return [self._site(t, name, held) for name in sorted(t.fleet.sites)]

    def site(
        self, documents: Fleet, records: Iterable[WorkloadRecord], name: str
    ) -> inventory_pb2.Site | None:
        t = self._of(documents)
        return self._site(t, name, self._held(t, records)) if name in t.fleet.sites else None

    def clusters(
        self, documents: Fleet, records: Iterable[WorkloadRecord]
    ) -> list[inventory_pb2.Cluster]:
        t = self._of(documents)
        held = self._held(t, records)
        return [self._cluster(t, name, held) for name in sorted(t.fleet.clusters)]

    def cluster(
        self, documents: Fleet, records: Iterable[WorkloadRecord], name: str
    ) -> inventory_pb2.Cluster | None:
        t = self._of(documents)
        if name not in t.fleet.clusters:
            return None
        return self._cluster(t, name, self._held(t, records))

    def platform_instances(
        self, documents: Fleet, platforms: Iterable[Platform], scope: str = ""
    ) -> list[inventory_pb2.PlatformInstance]:
        """The instances of `platforms` in platform and site order, each with its site's
        division and the highest 等保 level of its declared clusters; with `scope`, those at a
        site in its subtree or serving a tenant in it, with the tenants outside it counted,
        not named. Reads the documents only (the catalog's sites are declared ones): no pass
        over the nodes."""
        site_mlps = self._site_levels(documents)
        out = []
        for platform in sorted(platforms, key=lambda p: p.name):
            for instance in sorted(platform.instances, key=lambda i: i.site):
                site = documents.sites.get(instance.site)
                division = site.division if site is not None else ""
                tenants = sorted(instance.tenants)
                mine = [c for c in tenants if not scope or contains(scope, c)]
                if scope and not mine and not (division and contains(scope, division)):
                    continue
                out.append(
                    platform_instance_message(
                        platform,
                        instance,
                        division,
                        site_mlps.get(instance.site, 0),
                        mine,
                        len(tenants) - len(mine),
                    )
                )
        return out

    def _site_levels(self, documents: Fleet) -> dict[str, int]:
        """The highest 等保 level of each site's declared clusters, kept per documents."""
        if self._site_mlps[0] is not documents:
            levels: dict[str, int] = {}
            for c in documents.clusters.values():
                levels[c.site] = max(levels.get(c.site, 0), c.mlps_level)
            self._site_mlps = (documents, levels)
        return self._site_mlps[1]

    @staticmethod
    def _held(t: _Tables, records: Iterable[WorkloadRecord]) -> _Held:
        """What placed replicas hold per cluster, and per site."""
        clusters: dict[str, Held] = {}
        sites: dict[str, Held] = {}
        for name, held in held_by_cluster(records).items():
            cluster = t.fleet.clusters.get(name)
            if cluster is None:
                continue
            clusters.setdefault(name, Held()).add(held)
            sites.setdefault(cluster.site, Held()).add(held)
        return clusters, sites

    @staticmethod
    def _division(t: _Tables, code: str) -> inventory_pb2.Division:
        d = t.fleet.divisions[code]
        sites, clusters = t.site_count.get(code, 0), t.cluster_count.get(code, 0)
        return division_message(d, t.divisions[code], sites, clusters)

    @staticmethod
    def _site(t: _Tables, name: str, held: _Held) -> inventory_pb2.Site:
        group = t.sites[name]
        return site_message(
            t.fleet.sites[name],
            t.site_clusters.get(name, []),
            t.site_mlps.get(name, 0),
            group.totals,
            held[1].get(name, Held()),
            group.archs,
        )

    @staticmethod
    def _cluster(t: _Tables, name: str, held: _Held) -> inventory_pb2.Cluster:
        c = t.fleet.clusters[name]
        group = t.clusters[name]
        site = t.fleet.sites[c.site]
        return cluster_message(c, site, group.totals, held[0].get(name, Held()), group.archs)
