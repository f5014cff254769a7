"""The fleet as a console sees it: built from a Watch stream's snapshot, kept up by deltas."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from tongchou.v1 import inventory_pb2

HISTORY = 60
"""Reports kept per node for its sparkline: ten minutes at a 10 s interval."""


@dataclass(slots=True)
class FleetView:
    """Nodes by name, the newest totals and the recent events. Not thread-safe."""

    nodes: dict[str, inventory_pb2.Node] = field(default_factory=dict)
    summary: inventory_pb2.FleetSummary = field(default_factory=inventory_pb2.FleetSummary)
    # enough for a province registering at once (10,000 nodes) and what came before it
    events: deque[inventory_pb2.Event] = field(default_factory=lambda: deque(maxlen=12_000))
    ready: bool = False  # a whole snapshot has arrived
    event_count: int = 0  # events received in all, of which `events` keeps the newest
    # Outside the caller's scope or watched subtree, counted by the hub and never shown:
    changed_elsewhere: int = 0  # node changes
    events_elsewhere: int = 0  # events
    # The CPU share of each node's recent reports, oldest first (for sparklines).
    history: dict[str, deque[float]] = field(default_factory=dict)
    _incoming: dict[str, inventory_pb2.Node] = field(default_factory=dict)
    _last_sequence: dict[str, int] = field(default_factory=dict)

    def _remember(self, node: inventory_pb2.Node) -> None:
        name = node.identity.node
        series = self.history.get(name)
        if series is None:
            series = self.history[name] = deque(maxlen=HISTORY)
        if not series or node.last_sequence != self._last_sequence.get(name):
            series.append(node.usage.cpu_ratio)
            self._last_sequence[name] = node.last_sequence

    def apply(self, delta: inventory_pb2.InventoryDelta) -> set[str]:
        """Takes one delta; returns the names of the nodes it changed (all, after a snapshot)."""
        if delta.snapshot and not self.ready:
            # The first load: nodes show as their pages arrive.
            changed = set()
            for node in delta.upserted:
                self.nodes[node.identity.node] = node
                self._remember(node)
                changed.add(node.identity.node)
            self.ready = delta.snapshot_done
        elif delta.snapshot:
            # A fresh snapshot after falling behind: the old view stays until it is whole.
            for node in delta.upserted:
                self._incoming[node.identity.node] = node
            if not delta.snapshot_done:
                return set()
            self.nodes, self._incoming = self._incoming, {}
            for node in self.nodes.values():
                self._remember(node)
            self.ready = True
            changed = set(self.nodes)
        else:
            changed = set()
            for node in delta.upserted:
                self.nodes[node.identity.node] = node
                self._remember(node)
                changed.add(node.identity.node)
            for name in delta.removed:
                if self.nodes.pop(name, None) is not None:
                    changed.add(name)
        if delta.HasField("summary"):
            self.summary = delta.summary
        self.events.extend(delta.events)
        self.event_count += len(delta.events)
        self.changed_elsewhere += delta.changed_elsewhere
        self.events_elsewhere += delta.events_elsewhere
        return changed
