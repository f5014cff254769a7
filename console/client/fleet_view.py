"""The fleet as a console sees it: built from a Watch stream's snapshot, kept up by deltas."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from tongchou.v1 import inventory_pb2


@dataclass(slots=True)
class FleetView:
    """Nodes by name, the newest totals and the recent events. Not thread-safe."""

    nodes: dict[str, inventory_pb2.Node] = field(default_factory=dict)
    summary: inventory_pb2.FleetSummary = field(default_factory=inventory_pb2.FleetSummary)
    events: deque[inventory_pb2.Event] = field(default_factory=lambda: deque(maxlen=500))
    ready: bool = False  # a whole snapshot has arrived
    _incoming: dict[str, inventory_pb2.Node] = field(default_factory=dict)

    def apply(self, delta: inventory_pb2.InventoryDelta) -> set[str]:
        """Takes one delta; returns the names of the nodes it changed (all, after a snapshot)."""
        if delta.snapshot:
            for node in delta.upserted:
                self._incoming[node.identity.node] = node
            if not delta.snapshot_done:
                return set()
            self.nodes, self._incoming = self._incoming, {}
            self.ready = True
            changed = set(self.nodes)
        else:
            changed = set()
            for node in delta.upserted:
                self.nodes[node.identity.node] = node
                changed.add(node.identity.node)
            for name in delta.removed:
                if self.nodes.pop(name, None) is not None:
                    changed.add(name)
        if delta.HasField("summary"):
            self.summary = delta.summary
        self.events.extend(delta.events)
        return changed
