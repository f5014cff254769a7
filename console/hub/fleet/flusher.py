"""Writes the inventory to its store in batched transactions, and says when a write is durable."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from console.hub.fleet.inventory import Inventory, NodeEntry
from console.hub.metrics import HubMetrics
from console.model.inventory import Event
from console.store.base import InventoryStore, StoredNode

log = logging.getLogger("tongchou.hub.store")
COALESCE = 0.02


class Flusher:
    """Flushes every `interval`, or sooner when a registration waits to be made durable."""

    def __init__(
        self,
        inventory: Inventory,
        store: InventoryStore,
        metrics: HubMetrics,
        interval: float,
        heartbeat_every: float = 30.0,
    ) -> None:
        self.inventory = inventory
        self.store = store
        self.metrics = metrics
        self.interval = interval
        self.heartbeat_every = heartbeat_every
        self._last_full = time.monotonic()
        self._waiters: list[asyncio.Future[None]] = []
        self._rows: list[StoredNode] = []
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()

    def durable(self, rows: Sequence[StoredNode] = ()) -> asyncio.Future[None]:
        """A future that completes once `rows`, and everything accepted so far, are committed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        self._rows.extend(rows)
        self._wake.set()
        return future

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval)
                await asyncio.sleep(COALESCE)
            except TimeoutError:
                pass
            await self.flush()

    async def flush(self, *, full: bool | None = None) -> None:
        """Writes what changed since the last flush, in one transaction. Heartbeats (a node that
        only reported again) go in a full flush, every `heartbeat_every` seconds or when asked."""
        async with self._lock:
            self._wake.clear()
            waiters, self._waiters = self._waiters, []
            if full is None:
                full = time.monotonic() - self._last_full >= self.heartbeat_every
            if full:
                self._last_full = time.monotonic()
            entries, events = self.inventory.take_dirty_entries(full=full)
            registrations, self._rows = self._rows, []
            if not entries and not registrations and not events:
                _resolve(waiters, None)
                return
            started = time.perf_counter()
            try:  # the rows are built on the writer's thread too: a pass over every node
                written = await asyncio.to_thread(self._write, entries, registrations, events)
            except Exception as err:  # the store failed: keep the changes for the next flush
                log.error("store write failed, will retry: %s", err)
                self.metrics.store_errors.inc()
                names = [e.name for e in entries] + [r.name for r in registrations]
                self.inventory.dirty.update(n for n in names if n in self.inventory.nodes)
                self.inventory.pending_events[:0] = events
                _resolve(waiters, err)
                return
            self.metrics.flush_seconds.observe(time.perf_counter() - started)
            self.metrics.flushed_nodes.inc(written)
            _resolve(waiters, None)

    def _write(
        self, entries: list[NodeEntry], registrations: list[StoredNode], events: list[Event]
    ) -> int:
        """Builds the rows and writes them in one transaction (on a worker thread);
        registrations last, as they are the newest word on their nodes."""
        rows = [entry.stored() for entry in entries] + registrations
        self.store.write_batch(rows, events)
        return len(rows)


def _resolve(waiters: list[asyncio.Future[None]], error: Exception | None) -> None:
    for future in waiters:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
