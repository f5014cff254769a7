"""A node's claims bound to its registration: the fleet documents say where a declared node
is (division, site, cluster) and what it holds; for a node they do not declare, the join token
it enrolled with may say where it is. A report that contradicts where it is, is refused, and a
capacity far beyond what it held is an event an operator sees."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from console.model.fleet import Fleet
from console.store.credentials import NodePlace
from tongchou.v1 import common_pb2

CAPACITY_JUMP = 2.0
"""A node's cpu or memory reported at more than this many times what it held before (or
what its document declares) is a capacity jump: an event, and
`tongchou_hub_capacity_jumps_total`."""


@dataclass(frozen=True, slots=True)
class Registered:
    """Where a registered node is, and what its document says it holds (0: not known)."""

    division: str
    site: str
    cluster: str
    cpu_cores: int
    memory_bytes: int
    source: str = "fleet documents"


class Claims:
    """Reads a node's registration from the hub's fleet documents (`fleet()` is read on each
    call: the documents may be loaded again), else from the places nodes enrolled with
    (`places`, kept up to date by the hub as nodes join)."""

    def __init__(
        self, fleet: Callable[[], Fleet], places: Mapping[str, NodePlace] | None = None
    ) -> None:
        self._fleet = fleet
        self._places = places if places is not None else {}

    def registered(self, node: str) -> Registered | None:
        fleet = self._fleet()
        declared = fleet.nodes.get(node)
        if declared is None:
            place = self._places.get(node)
            if place is None:
                return None
            return Registered(place.division, place.site, place.cluster, 0, 0, "join token")
        cluster = fleet.clusters.get(declared.cluster)
        site = fleet.sites.get(cluster.site) if cluster is not None else None
        if cluster is None or site is None:
            return None
        return Registered(
            site.division,
            site.name,
            cluster.name,
            max(1, declared.capacity.cpu_milli // 1000),
            declared.capacity.memory_bytes,
        )

    def contradiction(self, identity: common_pb2.NodeIdentity) -> str | None:
        """Why the report's place contradicts the node's registration, or None."""
        known = self.registered(identity.node)
        if known is None:
            return None
        wrong = [
            f"{field} {said!r} (registered in its {known.source}: {want!r})"
            for field, said, want in (
                ("division", identity.division, known.division),
                ("site", identity.site, known.site),
                ("cluster", identity.cluster, known.cluster),
            )
            if said != want
        ]
        if not wrong:
            return None
        return f"node {identity.node} claims " + ", ".join(wrong)

    def jump(
        self,
        node: str,
        before: common_pb2.Capacity | None,
        now: common_pb2.Capacity,
    ) -> str | None:
        """A message when `now` is a capacity jump over what the node held, or None."""
        known = self.registered(node)
        cores = before.cpu_logical if before is not None else (known.cpu_cores if known else 0)
        memory = before.memory_bytes if before is not None else (known.memory_bytes if known else 0)
        parts = []
        if cores and now.cpu_logical > CAPACITY_JUMP * cores:
            parts.append(f"cpu {cores} → {now.cpu_logical} cores")
        if memory and now.memory_bytes > CAPACITY_JUMP * memory:
            parts.append(f"memory {memory / 2**30:.0f} → {now.memory_bytes / 2**30:.0f} GiB")
        if not parts:
            return None
        return f"capacity jump on {node}: " + ", ".join(parts)
