"""Inventory watchers: every second, what changed, to every console that watches."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from console.hub import loops
from console.hub.api.messages import event_message, node_message
from console.hub.fleet.inventory import Inventory
from tongchou.divisions import contains
from tongchou.v1 import inventory_pb2

QUEUE = 8
PAGE = 1000


@dataclass(eq=False)
class Watcher:
    """One console's stream. When it falls QUEUE deltas behind it gets a snapshot instead."""

    division: str
    queue: asyncio.Queue[inventory_pb2.InventoryDelta | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE)
    )
    # A snapshot is owed: deltas are not queued until it is sent (it covers them).
    resync: bool = False

    def wants(self, division: str) -> bool:
        return not self.division or contains(self.division, division)


class Watchers:
    """Fans the inventory's changes out; `tick()` runs once a second on the event loop."""

    def __init__(
        self, inventory: Inventory, summary: Callable[[], inventory_pb2.FleetSummary]
    ) -> None:
        self.inventory = inventory
        self.summary = summary
        self.watchers: set[Watcher] = set()
        self._events_seen = inventory.event_count

    def subscribe(self, division: str) -> Watcher:
        watcher = Watcher(division)
        self.watchers.add(watcher)
        return watcher

    def unsubscribe(self, watcher: Watcher) -> None:
        self.watchers.discard(watcher)

    def snapshot(self, watcher: Watcher) -> Iterator[inventory_pb2.InventoryDelta]:
        """Every node the watcher wants, a page at a time, the totals on the last page."""
        watcher.resync = False
        entries = list(self.inventory.select(watcher.division))
        pages = [entries[i : i + PAGE] for i in range(0, len(entries), PAGE)] or [[]]
        for i, page in enumerate(pages):
            delta = inventory_pb2.InventoryDelta(
                upserted=[node_message(e) for e in page], snapshot=True
            )
            if i == len(pages) - 1:
                delta.snapshot_done = True
                delta.summary.CopyFrom(self.summary())
                delta.events.extend(event_message(e) for e in list(self.inventory.events)[-50:])
            yield delta

    def tick(self) -> None:
        """Sends each watcher the nodes that changed and the new events since the last tick; of
        the nodes outside its subtree, only how many changed."""
        changed, self.inventory.changed = self.inventory.changed, set()
        fresh = self.inventory.event_count - self._events_seen
        self._events_seen = self.inventory.event_count
        if not self.watchers:
            return
        recent = list(self.inventory.events)[-fresh:] if fresh > 0 else []
        nodes = [self.inventory.nodes[n] for n in sorted(changed) if n in self.inventory.nodes]
        messages = {e.name: node_message(e) for e in nodes}
        summary = self.summary()
        events = [event_message(e) for e in recent]
        for watcher in list(self.watchers):
            if watcher.resync:
                continue
            mine = [e for e in nodes if watcher.wants(e.report.identity.division)]
            delta = inventory_pb2.InventoryDelta(
                summary=summary, events=events, changed_elsewhere=len(nodes) - len(mine)
            )
            delta.upserted.extend(messages[e.name] for e in mine)
            try:
                watcher.queue.put_nowait(delta)
            except asyncio.QueueFull:  # behind: drop the backlog, resend everything
                while not watcher.queue.empty():
                    watcher.queue.get_nowait()
                watcher.queue.put_nowait(None)
                watcher.resync = True


async def run(watchers: Watchers, stop: asyncio.Event, every: float = 1.0) -> None:
    await loops.every(stop, every, watchers.tick, steady=True)
