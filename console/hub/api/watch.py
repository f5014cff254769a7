"""Inventory watchers: every second, what changed, to every console that watches."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from console.hub import loops
from console.hub.api.messages import event_message, node_message
from console.hub.fleet.inventory import Inventory
from console.model.inventory import Event
from tongchou.divisions import contains
from tongchou.v1 import inventory_pb2

PAGE = 1000
"""Nodes per message, in a snapshot and in a delta: the most one send builds on the loop."""
EVENTS = 1000
"""Events a watcher that is behind keeps for its next delta (the inventory keeps as many)."""
SNAPSHOT_EVENTS = 50
SUMMARY_SHARE = 0.1
"""The most of the event loop's time the watchers' totals take: the whole fleet's tally is a
pass over every node, so at 100,000 nodes it is recomputed every few ticks, not every tick."""


@dataclass(eq=False)
class Watcher:
    """One console's stream. What it has not been sent yet is coalesced: the names of the nodes
    that changed (their newest state is read when the delta is built), the count of changes
    outside its subtree and the events, so a slow reader costs the hub no more than a fast one
    and is never sent the whole fleet again."""

    division: str
    pending: set[str] = field(default_factory=set)
    elsewhere: int = 0
    events: deque[Event] = field(default_factory=lambda: deque(maxlen=EVENTS))
    due: bool = False  # a tick passed since the last delta: one is owed, even an empty one
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def wants(self, division: str) -> bool:
        return not self.division or contains(self.division, division)


class Watchers:
    """Fans the inventory's changes out; `tick()` runs once a second on the event loop and only
    files names: each stream builds its own messages, a page at a time, as fast as it is read."""

    def __init__(
        self,
        inventory: Inventory,
        summary: Callable[[], inventory_pb2.FleetSummary],
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.inventory = inventory
        self.summary = summary
        self.clock = clock
        self.watchers: set[Watcher] = set()
        self._events_seen = inventory.event_count
        self._summary = inventory_pb2.FleetSummary()  # the newest computed
        self._summary_due = 0.0  # clock reading from which it is computed again
        self.summaries = 0  # totals computed for the deltas
        self.snapshots = 0  # snapshots begun, over all streams
        self.coalesced = 0  # ticks folded into another tick's delta for a slow reader

    def subscribe(self, division: str) -> Watcher:
        watcher = Watcher(division)
        self.watchers.add(watcher)
        return watcher

    def unsubscribe(self, watcher: Watcher) -> None:
        self.watchers.discard(watcher)

    def snapshot(self, watcher: Watcher) -> Iterator[inventory_pb2.InventoryDelta]:
        """Every node the watcher wants, a page at a time (each built when it is asked for), the
        totals on the last page. Changes made while it is sent reach the watcher as deltas."""
        self.snapshots += 1
        names = [e.name for e in self.inventory.select(watcher.division)]
        pages = [names[i : i + PAGE] for i in range(0, len(names), PAGE)] or [[]]
        nodes = self.inventory.nodes
        for i, page in enumerate(pages):
            delta = inventory_pb2.InventoryDelta(
                upserted=[node_message(nodes[n]) for n in page if n in nodes], snapshot=True
            )
            if i == len(pages) - 1:
                delta.snapshot_done = True
                delta.summary.CopyFrom(self.summary())
                recent = islice(reversed(self.inventory.events), SNAPSHOT_EVENTS)
                delta.events.extend(event_message(e) for e in reversed(list(recent)))
            yield delta

    def tick(self) -> None:
        """Files, for each watcher, the nodes that changed inside its subtree and the new
        events; of the nodes outside it, only how many changed. Each subtree is matched once
        per division, not once per node, and no message is built here."""
        changed, self.inventory.changed = self.inventory.changed, set()
        fresh = self.inventory.event_count - self._events_seen
        self._events_seen = self.inventory.event_count
        if not self.watchers:
            return
        recent = list(self.inventory.events)[-fresh:] if fresh > 0 else []
        by_division: defaultdict[str, list[str]] = defaultdict(list)
        nodes = self.inventory.nodes
        for name in changed:
            entry = nodes.get(name)
            if entry is not None:
                by_division[entry.report.identity.division].append(name)
        total = sum(len(names) for names in by_division.values())
        self._refresh_summary()
        for watcher in list(self.watchers):
            mine = 0
            for division, names in by_division.items():
                if watcher.wants(division):
                    watcher.pending.update(names)
                    mine += len(names)
            watcher.elsewhere += total - mine
            watcher.events.extend(recent)
            if watcher.due:
                self.coalesced += 1
            watcher.due = True
            watcher.wake.set()

    def _refresh_summary(self) -> None:
        """The totals for the deltas, computed again once the last computation's cost, spread
        over the time since, is at most SUMMARY_SHARE of the loop (every tick while cheap)."""
        started = self.clock()
        if started < self._summary_due:
            return
        self._summary = self.summary()
        self.summaries += 1
        cost = self.clock() - started
        self._summary_due = started + cost / SUMMARY_SHARE

    def next_delta(self, watcher: Watcher) -> inventory_pb2.InventoryDelta | None:
        """What the watcher is owed, at most PAGE nodes of it (the rest stays owed), built from
        the nodes' newest state, the totals on its last message; None when nothing is owed."""
        if not watcher.due:
            return None
        page = list(islice(watcher.pending, PAGE))
        watcher.pending.difference_update(page)
        page.sort()
        nodes = self.inventory.nodes
        delta = inventory_pb2.InventoryDelta(
            events=[event_message(e) for e in watcher.events], changed_elsewhere=watcher.elsewhere
        )
        delta.upserted.extend(node_message(nodes[n]) for n in page if n in nodes)
        watcher.events.clear()
        watcher.elsewhere = 0
        watcher.due = bool(watcher.pending)
        if not watcher.due:  # the totals once, on the last message of what was owed
            delta.summary.CopyFrom(self._summary)
            watcher.wake.clear()
        return delta

    async def stream(self, watcher: Watcher) -> AsyncIterator[inventory_pb2.InventoryDelta]:
        """The watcher's stream: a snapshot, then deltas. Between two messages the loop runs
        everything else that is ready, so no stream holds it for more than one page."""
        for page in self.snapshot(watcher):
            yield page
            await asyncio.sleep(0)
        while True:
            await watcher.wake.wait()
            delta = self.next_delta(watcher)
            if delta is None:
                watcher.wake.clear()
                continue
            yield delta
            await asyncio.sleep(0)


async def run(watchers: Watchers, stop: asyncio.Event, every: float = 1.0) -> None:
    await loops.every(stop, every, watchers.tick, steady=True)
