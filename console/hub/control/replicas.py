"""Hub replicas on one PostgreSQL store: who leads, and what each replica learns of the others.

Every replica takes agent streams and console calls. One, elected through the store
(`console.store.leader`), runs the leader's duties: scheduling passes, the executor's
reconcile and failover, and the liveness sweep of nodes no replica streams. Every replica
reads back, every `sync` seconds and at once on a NOTIFY, the nodes and events the others
wrote and, when they change, the workloads; so each console sees the whole fleet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from console.hub.control.workloads import WorkloadManager, WorkloadRecord, read_records
from console.hub.fleet.inventory import Inventory, NodeEntry
from console.hub.metrics import HubMetrics
from console.store.base import InventoryStore, StoredNode
from console.store.leader import LeaderElection, Seat
from console.store.notify import listen
from console.store.postgres import PostgresStore

log = logging.getLogger("tongchou.hub.replicas")

Duty = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


@dataclass(frozen=True, slots=True)
class ReplicaSettings:
    name: str = ""  # default: host-pid
    election_retry: float = 1.0
    sync: float = 1.0
    workloads_every: float = 30.0  # a full re-read of the workloads, notifications or not
    # How much longer the leader lets nodes no replica streams be silent before it sweeps
    # them: another replica writes their heartbeats only this often.
    remote_grace: float = 36.0


def _entries(rows: list[StoredNode]) -> list[NodeEntry]:
    return [NodeEntry.from_stored(row) for row in rows]


class Replica:
    """One hub's place among the replicas. `run()` until the hub stops."""

    def __init__(
        self,
        settings: ReplicaSettings,
        store: PostgresStore,
        inventory: Inventory,
        workloads: WorkloadManager,
        metrics: HubMetrics,
    ) -> None:
        self.settings = settings
        self.name = settings.name or f"{socket.gethostname()}-{os.getpid()}"
        self.store = store
        self.inventory = inventory
        self.workloads = workloads
        self.metrics = metrics
        self.election = LeaderElection(
            store.conninfo, self.name, retry=settings.election_retry, on_change=self._seated
        )
        store.origin = self.name
        self.duties: list[tuple[str, Duty]] = []
        self._duty_stop: asyncio.Event | None = None
        self._duty_tasks: list[asyncio.Task[None]] = []
        self._poke = asyncio.Event()
        self._workloads_stale = True
        self._workloads_read = 0.0
        self._node_revision = 0
        self._event_id = 0
        workloads.schedules = False  # until elected
        metrics.leader.set(0)

    @property
    def leading(self) -> bool:
        return self.election.leading

    @property
    def sweep_grace(self) -> float | None:
        """For the sweep: nodes streaming to no one here are the leader's, with a grace."""
        return self.settings.remote_grace if self.leading else None

    def add_duty(self, name: str, duty: Duty) -> None:
        """A loop only the leader runs: started on winning, stopped (its event set) on losing."""
        self.duties.append((name, duty))

    def _seated(self, seat: Seat) -> None:
        self.store.fence_term = seat.term if seat.leading else None
        self.workloads.schedules = seat.leading
        self.metrics.leader.set(1 if seat.leading else 0)
        if not seat.leading:
            self._stop_duties()
            return
        self.metrics.leader_term.set(seat.term)
        self._workloads_stale = True  # lead on what is stored, not on what we remember
        self._poke.set()
        self._stop_duties()
        stop = asyncio.Event()
        self._duty_stop = stop
        self._duty_tasks = [
            asyncio.create_task(duty(stop), name=f"hub-leader-{name}") for name, duty in self.duties
        ]

    def _stop_duties(self) -> None:
        if self._duty_stop is not None:
            self._duty_stop.set()
            self._duty_stop = None

    def _changed(self, payload: str) -> None:
        if "workloads" in payload or payload == "reconnected":
            self._workloads_stale = True
        self._poke.set()

    async def run(self, stop: asyncio.Event) -> None:
        tasks = [
            asyncio.create_task(self.election.run(stop), name="hub-election"),
            asyncio.create_task(
                listen(self.store.conninfo, self._changed, stop), name="hub-store-listener"
            ),
            asyncio.create_task(self._sync_loop(stop), name="hub-replica-sync"),
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            self._stop_duties()
            for task in self._duty_tasks:
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(task, 5.0)

    async def _sync_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poke.wait(), self.settings.sync)
            self._poke.clear()
            if stop.is_set():
                return
            try:
                await self.sync()
            except Exception as err:  # the store is away: the next round tries again
                log.warning("replica sync failed: %s", err)

    async def sync(self) -> None:
        """Takes in what the other replicas wrote since the last round."""
        rows, revision = await asyncio.to_thread(self.store.nodes_after, self._node_revision)
        if rows:
            entries = await asyncio.to_thread(_entries, rows)
            adopted = sum(self.inventory.adopt(entry) for entry in entries)
            log.debug("took %d nodes from other replicas", adopted)
        self._node_revision = revision
        events, self._event_id = await asyncio.to_thread(self.store.events_after, self._event_id)
        for event in events:
            self.inventory.remember(event)
        due = time.monotonic() - self._workloads_read > self.settings.workloads_every
        if self._workloads_stale or due:
            await self._read_workloads()

    async def _read_workloads(self) -> None:
        before = self.workloads.revision
        self._workloads_stale = False
        self._workloads_read = time.monotonic()
        records: dict[str, WorkloadRecord] = await asyncio.to_thread(read_records, self.store)
        if self.workloads.revision != before:  # changed here meanwhile: read again next round
            self._workloads_stale = True
            return
        self.workloads.replace_records(records)


async def open_replica(
    settings: ReplicaSettings,
    store: InventoryStore,
    workloads: WorkloadManager,
    metrics: HubMetrics,
) -> Replica | None:
    """A Replica when the store is PostgreSQL (None for SQLite: a single hub always leads)."""
    if not isinstance(store, PostgresStore):
        return None
    replica = Replica(settings, store, workloads.inventory, workloads, metrics)
    replica._event_id = await asyncio.to_thread(store.last_event_id)  # stored: not news
    return replica
