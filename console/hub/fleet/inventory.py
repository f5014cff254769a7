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
    relay: str = ""  # the site whose relay vouched for the newest report ("" = direct)

    @property
    def identity(self) -> common_pb2.NodeIdentity:
        return self.report.identity

    def copy(self) -> NodeEntry:
        """The entry as it is now, sharing its report (a report is never changed once taken)."""
        return NodeEntry(
            self.name,
            self.report,
            self.state,
            self.first_seen,
            self.last_seen,
            self.interval,
            self.stream,
            self.relay,
        )

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

    def by_state(self) -> dict[NodeState, int]:
        return {NodeState.READY: self.ready, NodeState.STALE: self.stale, NodeState.LOST: self.lost}


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
    # Grows whenever any node changes at all (every report): the cue to rebuild totals.
    version: int = 0
    # Grows whenever the nodes the scheduler sees change: generation, or a node's capacity.
    shape: int = 0
    # Nodes that only reported again: written at the next full flush (heartbeats are cheap to lose).
    touched: set[str] = field(default_factory=set)
    _names: list[str] = field(default_factory=list)

    def load(self, rows: Iterable[StoredNode]) -> None:
        for row in rows:
            self.nodes[row.name] = NodeEntry.from_stored(row)
        self._names = sorted(self.nodes)
        self.version += 1
        self.shape += 1

    def adopt(self, entry: NodeEntry) -> bool:
        """Takes a node as another hub replica stored it, if that is newer than what this
        one holds; returns whether it did. Not written back: it is already stored."""
        old = self.nodes.get(entry.name)
        if old is not None and old.last_seen >= entry.last_seen:
            return False
        self.nodes[entry.name] = entry
        if old is None:
            bisect.insort(self._names, entry.name)
        self.changed.add(entry.name)
        self.version += 1
        if old is None or old.state is not entry.state or old.identity != entry.identity:
            self.generation += 1
            self.shape += 1
        elif old.report.capacity != entry.report.capacity:
            self.shape += 1
        return True

    def remember(self, event: Event) -> None:
        """An event another replica recorded (and stored): shown, not written again."""
        self.events.append(event)
        self.event_count += 1

    def record(self, event: Event) -> None:
        self.events.append(event)
        self.pending_events.append(event)
        self.event_count += 1

    def accept(
        self,
        report: agent_pb2.NodeReport,
        stream: int,
        now: float,
        interval: float,
        relay: str = "",
    ) -> tuple[NodeEntry, bool]:
        """Takes an accepted report; returns its entry and whether it (re)registered the node.
        `relay` is the site whose relay vouched for the report ("" when it came directly)."""
        name = report.identity.node
        entry = self.nodes.get(name)
        if entry is None:
            entry = NodeEntry(name, report, NodeState.READY, now, now, interval, stream, relay)
            self.nodes[name] = entry
            bisect.insort(self._names, name)
            self.dirty.add(name)
            self.changed.add(name)
            self.generation += 1
            self.version += 1
            self.shape += 1
            ident = report.identity
            via = f", through the relay at {relay}" if relay else ""
            where = f"{ident.cluster} at {ident.site} ({ident.division}){via}"
            self.record(Event(now, "registered", name, where))
            return entry, True
        registered = entry.report.identity != report.identity
        changed = registered or entry.state is not NodeState.READY
        self.version += 1
        if changed or entry.report.capacity != report.capacity:
            self.shape += 1
        if registered:
            old = entry.report.identity
            self.record(
                Event(now, "relabelled", name, f"was {old.cluster} at {old.site} ({old.division})")
            )
        if entry.state is not NodeState.READY:
            self.record(Event(now, "ready", name, f"reporting again (was {entry.state.value})"))
            entry.state = NodeState.READY
        if entry.relay != relay:
            via = f"through the relay at {relay}" if relay else "directly"
            self.record(Event(now, "route", name, f"reports {via}"))
            entry.relay = relay
        entry.report = report
        entry.last_seen = now
        entry.interval = interval
        entry.stream = stream
        (self.dirty if changed else self.touched).add(name)
        self.changed.add(name)
        if changed:
            self.generation += 1
        return entry, registered

    def sweep(self, now: float, remote: float | None = 0.0) -> int:
        """Moves silent nodes to stale, then lost; returns how many changed. Nodes with no
        stream here (stream 0) are judged with `remote` seconds more, for the lag of what
        another replica stored, or not at all when `remote` is None."""
        changed = 0
        for entry in self.nodes.values():
            if entry.stream == 0 and remote is None:
                continue
            grace = (remote or 0.0) if entry.stream == 0 else 0.0
            silent = now - entry.last_seen - grace
            if entry.state is not NodeState.LOST and silent > self.lost_after:
                entry.state = NodeState.LOST
            elif entry.state is NodeState.READY and silent > STALE_AFTER_INTERVALS * entry.interval:
                entry.state = NodeState.STALE
            else:
                continue
            self.dirty.add(entry.name)
            self.changed.add(entry.name)
            self.generation += 1
            self.version += 1
            self.shape += 1
            changed += 1
            quiet = now - entry.last_seen
            self.record(Event(now, entry.state.value, entry.name, f"no report for {quiet:.0f}s"))
        return changed

    def take_dirty(self, *, full: bool = True) -> tuple[list[StoredNode], list[Event]]:
        """The rows and events not yet written; marks them written. Without `full`, nodes that
        only reported again wait for a later full flush."""
        entries, events = self.take_dirty_entries(full=full)
        return [entry.stored() for entry in entries], events

    def take_dirty_entries(self, *, full: bool = True) -> tuple[list[NodeEntry], list[Event]]:
        """As `take_dirty`, but copies of the entries instead of rows: a copy shares the newest
        report (never changed once taken) and keeps the state as it is now, so the rows can be
        built (serialising every node at 100,000 nodes) off the event loop."""
        names = self.dirty | self.touched if full else self.dirty
        entries = [self.nodes[name].copy() for name in sorted(names)]
        self.dirty.clear()
        if full:
            self.touched.clear()
        else:
            self.touched -= names
        events, self.pending_events = self.pending_events, []
        return entries, events

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
