"""The live fleet inventory: every node's newest report, its liveness, and what changed."""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from console.model.inventory import Event, NodeState
from console.store.base import StoredNode
from tongchou.divisions import contains
from tongchou.v1 import agent_pb2, common_pb2

STALE_AFTER_INTERVALS = 3


@dataclass(slots=True)
class NodeEntry:
    """One node as the hub knows it. `report` is the newest accepted report."""

    name: str
    report: agent_pb2.NodeReport
    state: NodeState
    first_seen: float
    last_seen: float
    interval: float
    stream: int = 0

    @property
    def identity(self) -> common_pb2.NodeIdentity:
        return self.report.identity

    def stored(self) -> StoredNode:
        ident = self.report.identity
        return StoredNode(
            name=self.name,
            division=ident.division,
            site=ident.site,
            cluster=ident.cluster,
            state=self.state.value,
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            run_id=self.report.run_id,
            sequence=self.report.sequence,
            interval=self.interval,
            identity=ident.SerializeToString(deterministic=True),
            capacity=self.report.capacity.SerializeToString(deterministic=True),
            usage=self.report.usage.SerializeToString(deterministic=True),
            boot_time=self.report.boot_time.ToNanoseconds() / 1e9,
        )

    @classmethod
    def from_stored(cls, row: StoredNode) -> NodeEntry:
        report = agent_pb2.NodeReport(run_id=row.run_id, sequence=row.sequence)
        report.identity.ParseFromString(row.identity)
        report.capacity.ParseFromString(row.capacity)
        report.usage.ParseFromString(row.usage)
        report.boot_time.FromNanoseconds(int(row.boot_time * 1e9))
        return cls(
            name=row.name,
            report=report,
            state=NodeState(row.state),
            first_seen=row.first_seen,
            last_seen=row.last_seen,
            interval=row.interval,
        )


@dataclass(slots=True)
class Totals:
    """Node counts and resources of a group of nodes."""

    ready: int = 0
    stale: int = 0
    lost: int = 0
    cpu_cores: float = 0.0
    cpu_used_cores: float = 0.0
    memory_bytes: int = 0
    memory_used_bytes: int = 0

    def add(self, entry: NodeEntry) -> None:
        if entry.state is NodeState.READY:
            self.ready += 1
        elif entry.state is NodeState.STALE:
            self.stale += 1
        else:
            self.lost += 1
        cap, use = entry.report.capacity, entry.report.usage
        self.cpu_cores += cap.cpu_logical
        self.memory_bytes += cap.memory_bytes
        if entry.state is not NodeState.LOST:
            self.cpu_used_cores += cap.cpu_logical * use.cpu_ratio
            self.memory_used_bytes += use.memory_used_bytes

    @property
    def nodes(self) -> int:
        return self.ready + self.stale + self.lost


@dataclass(slots=True)
class Inventory:
    """Nodes by name, with liveness rules. Not thread-safe: the hub's event loop owns it."""

    lost_after: float = 120.0
    nodes: dict[str, NodeEntry] = field(default_factory=dict)
    events: deque[Event] = field(default_factory=lambda: deque(maxlen=1000))
    pending_events: list[Event] = field(default_factory=list)
    # Nodes changed since watchers last looked, and how many events were ever recorded.
    changed: set[str] = field(default_factory=set)
    event_count: int = 0
    # Nodes whose registration, labels or state changed: written at the next flush.
    dirty: set[str] = field(default_factory=set)
    # Grows whenever a node registers, moves or changes state: the scheduler's cue to retry.
    generation: int = 0
    # Nodes that only reported again: written at the next full flush (heartbeats are cheap to lose).
    touched: set[str] = field(default_factory=set)
    _names: list[str] = field(default_factory=list)

    def load(self, rows: Iterable[StoredNode]) -> None:
        for row in rows:
            self.nodes[row.name] = NodeEntry.from_stored(row)
        self._names = sorted(self.nodes)

    def record(self, event: Event) -> None:
        self.events.append(event)
        self.pending_events.append(event)
        self.event_count += 1

    def accept(
        self, report: agent_pb2.NodeReport, stream: int, now: float, interval: float
    ) -> tuple[NodeEntry, bool]:
        """Takes an accepted report; returns its entry and whether it (re)registered the node."""
        name = report.identity.node
        entry = self.nodes.get(name)
        if entry is None:
            entry = NodeEntry(name, report, NodeState.READY, now, now, interval, stream)
            self.nodes[name] = entry
            bisect.insort(self._names, name)
            self.dirty.add(name)
            self.changed.add(name)
            self.generation += 1
            ident = report.identity
            self.record(
                Event(
                    now, "registered", name, f"{ident.cluster} at {ident.site} ({ident.division})"
                )
            )
            return entry, True
        registered = entry.report.identity != report.identity
        changed = registered or entry.state is not NodeState.READY
        if registered:
            old = entry.report.identity
            self.record(
                Event(now, "relabelled", name, f"was {old.cluster} at {old.site} ({old.division})")
            )
        if entry.state is not NodeState.READY:
            self.record(Event(now, "ready", name, f"reporting again (was {entry.state.value})"))
            entry.state = NodeState.READY
        entry.report = report
        entry.last_seen = now
        entry.interval = interval
        entry.stream = stream
        (self.dirty if changed else self.touched).add(name)
        self.changed.add(name)
        if changed:
            self.generation += 1
        return entry, registered

    def sweep(self, now: float) -> int:
        """Moves silent nodes to stale, then lost; returns how many changed."""
        changed = 0
        for entry in self.nodes.values():
            silent = now - entry.last_seen
            if entry.state is not NodeState.LOST and silent > self.lost_after:
                entry.state = NodeState.LOST
            elif entry.state is NodeState.READY and silent > STALE_AFTER_INTERVALS * entry.interval:
                entry.state = NodeState.STALE
            else:
                continue
            self.dirty.add(entry.name)
            self.changed.add(entry.name)
            self.generation += 1
            changed += 1
            self.record(Event(now, entry.state.value, entry.name, f"no report for {silent:.0f}s"))
        return changed

    def take_dirty(self, *, full: bool = True) -> tuple[list[StoredNode], list[Event]]:
        """The rows and events not yet written; marks them written. Without `full`, nodes that
        only reported again wait for a later full flush."""
        names = self.dirty | self.touched if full else self.dirty
        rows = [self.nodes[name].stored() for name in sorted(names)]
        self.dirty.clear()
        if full:
            self.touched.clear()
        else:
            self.touched -= names
        events, self.pending_events = self.pending_events, []
        return rows, events

    def count_live(self) -> int:
        return sum(1 for e in self.nodes.values() if e.state is not NodeState.LOST)

    def select(
        self, division: str = "", state: NodeState | None = None, after: str = ""
    ) -> Iterator[NodeEntry]:
        """Nodes in name order after `after`, optionally in a division's subtree and one state."""
        start = bisect.bisect_right(self._names, after) if after else 0
        for name in self._names[start:]:
            entry = self.nodes[name]
            if state is not None and entry.state is not state:
                continue
            if division and not contains(division, entry.report.identity.division):
                continue
            yield entry

    def tally(self, division: str = "") -> Tally:
        """Totals of the whole fleet (or of a division's subtree), by level, with the names of
        the divisions, sites and clusters its nodes report."""
        out = Tally()
        for entry in self.select(division) if division else self.nodes.values():
            out.add(entry)
        return out


@dataclass(slots=True)
class Tally:
    """Totals of a set of nodes, by level, and the divisions, sites and clusters they name."""

    total: Totals = field(default_factory=Totals)
    levels: dict[int, Totals] = field(default_factory=dict)
    divisions: set[str] = field(default_factory=set)
    sites: set[str] = field(default_factory=set)
    clusters: set[str] = field(default_factory=set)

    def add(self, entry: NodeEntry) -> None:
        ident = entry.report.identity
        self.total.add(entry)
        level = self.levels.get(ident.level)
        if level is None:
            level = self.levels[ident.level] = Totals()
        level.add(entry)
        self.divisions.add(ident.division)
        self.sites.add(ident.site)
        self.clusters.add(ident.cluster)
