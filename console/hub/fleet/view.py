"""The fleet the hub schedules on: its documents, completed by what the live inventory reports."""

from __future__ import annotations

import json
from dataclasses import asdict

from console.hub.fleet.inventory import Inventory
from console.model.fleet import Cluster, Division, Fleet, Node, Resources, Site
from console.model.inventory import NodeState
from console.store.base import StoredDocument
from tongchou.divisions import DivisionCodeError, level_of, parent_candidates


def live_fleet(
    documents: Fleet,
    inventory: Inventory,
    *,
    usage_as_allocated: bool = False,
) -> Fleet:
    """Declared divisions, sites and clusters, plus any that only agents have reported, and
    every ready node with the capacity it reports (stale and lost nodes take no new work).
    With `usage_as_allocated`, what a node uses counts as allocated (for the planner)."""
    fleet = Fleet(
        divisions=dict(documents.divisions),
        sites=dict(documents.sites),
        clusters=dict(documents.clusters),
    )
    for entry in inventory.nodes.values():
        ident = entry.report.identity
        _add_division(fleet, ident.division)
        if ident.site not in fleet.sites:
            fleet.sites[ident.site] = Site(ident.site, ident.division, ident.provider)
        if ident.cluster not in fleet.clusters:
            fleet.clusters[ident.cluster] = Cluster(ident.cluster, ident.site, ident.mlps_level)
        if entry.state is not NodeState.READY:
            continue
        cap, use = entry.report.capacity, entry.report.usage
        allocated = (
            Resources(int(cap.cpu_logical * 1000 * use.cpu_ratio), use.memory_used_bytes)
            if usage_as_allocated
            else Resources()
        )
        fleet.nodes[entry.name] = Node(
            name=entry.name,
            cluster=ident.cluster,
            arch=ident.arch,
            chip=ident.chip,
            capacity=Resources(cap.cpu_logical * 1000, cap.memory_bytes),
            allocated=allocated,
            labels=dict(ident.labels),
        )
    return fleet


class LiveFleet:
    """`live_fleet` of the documents and the inventory, kept until either changes: the nodes
    the scheduler sees change only when one registers, moves, changes state or capacity."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self._documents: Fleet | None = None
        self._shape = -1
        self._fleet = Fleet()
        self.builds = 0  # how often it was built afresh

    def get(self, documents: Fleet) -> Fleet:
        """The live fleet; a copy of the cached one, so callers may narrow its nodes."""
        if documents is not self._documents or self.inventory.shape != self._shape:
            self._fleet = live_fleet(documents, self.inventory)
            self.builds += 1
            self._documents, self._shape = documents, self.inventory.shape
        f = self._fleet
        return Fleet(dict(f.divisions), dict(f.sites), dict(f.clusters), dict(f.nodes))


def _add_division(fleet: Fleet, code: str) -> None:
    while code and code not in fleet.divisions:
        try:
            level = level_of(code)
        except DivisionCodeError:
            return
        parents = parent_candidates(code)
        parent = next(
            (p for p in parents if p in fleet.divisions), parents[-1] if parents else None
        )
        if parent == "000000":
            parent = None
        fleet.divisions[code] = Division(code, code, level, parent)
        code = parent or ""


def stored_documents(fleet: Fleet) -> list[StoredDocument]:
    """The fleet's divisions, sites and clusters as the store keeps them (JSON bodies)."""
    docs = [
        StoredDocument("Division", d.code, json.dumps(asdict(d), ensure_ascii=False))
        for d in fleet.divisions.values()
    ]
    docs += [
        StoredDocument("Site", s.name, json.dumps(asdict(s), ensure_ascii=False))
        for s in fleet.sites.values()
    ]
    docs += [
        StoredDocument("Cluster", c.name, json.dumps(asdict(c), ensure_ascii=False))
        for c in fleet.clusters.values()
    ]
    return docs
