"""Workloads in the hub: submitted documents, scheduled against the live inventory, stored.

Placements stay where they are once made: a new pass reserves every existing placement
first (highest priority first), then places what is pending. Replicas leave a cluster only
through failover (`unavailable`): a cluster whose nodes went stale or lost, for instance
because its agents are cut off from the hub, takes no new replicas but keeps the ones it
has until failover, with its grace and its event, takes it out.
Pending replicas are retried whenever the inventory changes (a node joins, recovers or
goes away), at most every `retry_interval` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TypeVar

from console.documents import Document, load_text, workloads_of
from console.documents.codes import allowing_new_codes
from console.hub.fleet.inventory import Inventory
from console.hub.fleet.view import LiveFleet
from console.model.fleet import Fleet, Resources
from console.model.inventory import Event
from console.model.replicas import Replicas
from console.model.workload import PlacementPolicy, Workload
from console.scheduler import Placement, PolicyEffect, Scheduler
from console.store.base import InventoryStore, StoredWorkload
from console.store.offloop import STORE_SECONDS, StoreUnavailable, StoreWriter

_T = TypeVar("_T")

log = logging.getLogger("tongchou.hub.workloads")


class _Anything:
    """Every name counts as declared (documents read back from the store were valid)."""

    def __contains__(self, item: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


@dataclass(slots=True)
class WorkloadRecord:
    """A workload in the hub: the parsed document and its placement. What the store keeps of
    it is a StoredWorkload with the same fields (and the name in place of the Workload)."""

    workload: Workload
    document: str
    submitted_at: float
    placed: Replicas
    pending: int
    reason: str = ""
    summary: str = ""
    generation: int = 0
    scheduled_at: float = 0.0

    def stored(self) -> StoredWorkload:
        """The row the store keeps (its replicas are immutable: the record takes new ones)."""
        values = {name: getattr(self, name) for name in _ROW_FIELDS}
        return StoredWorkload(name=self.workload.name, **values)

    @classmethod
    def from_stored(cls, row: StoredWorkload, workload: Workload) -> WorkloadRecord:
        values = {name: getattr(row, name) for name in _ROW_FIELDS}
        return cls(workload=workload, **values)


_ROW_FIELDS = tuple(f.name for f in fields(StoredWorkload) if f.name != "name")
"""What a record and its stored row share: every field but the name (the Workload's)."""


@dataclass(slots=True)
class Held:
    """What placed replicas request in one cluster: an amount of `Resources`, and how many."""

    amount: Resources = field(default_factory=Resources)
    replicas: int = 0

    def add(self, other: Held) -> None:
        self.amount += other.amount
        self.replicas += other.replicas


def held_by_cluster(records: Iterable[WorkloadRecord]) -> dict[str, Held]:
    """What the placed replicas of `records` request, per cluster. Safe to call from another
    thread (a metrics scrape): each collection is copied before it is walked."""
    out: dict[str, Held] = {}
    for record in list(records):
        w = record.workload
        for cluster, replicas in list(record.placed.items()):
            held = out.get(cluster)
            if held is None:
                held = out[cluster] = Held()
            held.amount += Resources(replicas * w.cpu_milli, replicas * w.memory_bytes)
            held.replicas += replicas
    return out


def read_records(store: InventoryStore) -> dict[str, WorkloadRecord]:
    """The stored workloads, parsed (safe to run on a worker thread)."""
    records = {}
    for row in store.load_workloads():
        with allowing_new_codes():  # valid when stored, whatever the table says now
            docs = load_text(
                row.document, f"stored workload {row.name}", known={"Division": _Anything()}
            )
        (workload,) = workloads_of(docs)
        records[row.name] = WorkloadRecord.from_stored(row, workload)
    return records


HELD_OUT = "; held out by failover: "
"""Ends the reason of a workload with replicas pending, before the clusters failover holds
out (a scoped caller is told those in its scope by name, the others as a count)."""


class WorkloadError(ValueError):
    """A submission that cannot be taken; the message says why and where."""


class WorkloadManager:
    """Owns the hub's workloads. Called from the event loop only."""

    def __init__(
        self,
        store: InventoryStore,
        inventory: Inventory,
        documents: Fleet,
        policies: Iterable[PlacementPolicy],
    ) -> None:
        self.store = store
        self.inventory = inventory
        self.documents = documents
        self.policies = list(policies)
        self.records: dict[str, WorkloadRecord] = {}
        self.live = LiveFleet(inventory)
        # False on a hub replica that does not lead: submissions wait for the leader's pass.
        self.schedules = True
        self.revision = 0  # grows with every change made here
        self._seen_generation = -1
        # Clusters failover has taken out of service → why; they take no replicas.
        self.unavailable: dict[str, str] = {}
        self.store_seconds = STORE_SECONDS  # a submit or delete waits this long for the store
        # Every write of workloads and placements, in order, off the event loop.
        self._writer = StoreWriter("hub-workload-store")
        self._unsaved: set[str] = set()  # placements changed in memory, not yet stored
        self._deleting: set[str] = set()  # deletes on their way to the store
        self._saving = False
        self._writing: set[str] = set()  # placements being written now

    async def load(self) -> None:
        """Reads the stored workloads back (after a restart), on a worker thread."""
        self.records.update(await asyncio.to_thread(read_records, self.store))

    def replace_records(self, records: dict[str, WorkloadRecord]) -> None:
        """Takes the stored workloads as they are now (another replica changed them)."""
        self.records = records
        self._seen_generation = -1  # a leader places what is pending at its next pass

    # -- changes -----------------------------------------------------------------------

    def known(self, *, planning: bool = False) -> dict[str, Collection[str]]:
        """The names submitted documents may refer to: the live divisions (and sites)."""
        fleet = self.live.get(self.documents)  # kept until the inventory changes
        if planning:
            return {"Division": set(fleet.divisions), "Site": set(fleet.sites)}
        return {"Division": set(fleet.divisions)}

    @staticmethod
    def workload_of(docs: Sequence[Document]) -> Workload:
        """The one Workload of validated documents; WorkloadError when there is not one."""
        workloads = workloads_of(docs)
        others = [d.kind for d in docs if d.kind != "Workload"]
        if len(workloads) != 1 or others:
            raise WorkloadError(
                f"submit exactly one Workload document (got {len(workloads)} Workload"
                + (f" and {', '.join(others)}" if others else "")
                + ")"
            )
        return workloads[0]

    async def submit_durably(self, workload: Workload, text: str) -> WorkloadRecord:
        """Stores the workload on a worker thread first; only once it is stored is it taken
        into memory and scheduled. StoreUnavailable when the store refuses it (nothing
        changed). Its placement is stored after; were that write lost, a restart places the
        stored workload again."""
        now = time.time()
        old = self.records.get(workload.name)
        record = WorkloadRecord(
            workload, text, now, Replicas(), workload.replicas, "not scheduled yet",
            generation=old.generation if old else 0,
        )  # fmt: skip
        await self._durably(self.store.save_workload, record.stored())
        self.records[workload.name] = record
        self.revision += 1
        if self.schedules:
            self.schedule(force={workload.name}, now=now)
            await self.save_placements()
        else:
            record.reason = "waiting for the leading hub replica to place it"
        return record

    async def delete_durably(self, name: str) -> bool:
        """Deletes from the store first, then from memory; StoreUnavailable leaves both."""
        if name not in self.records:
            return False
        self._deleting.add(name)
        try:
            await self._durably(self.store.delete_workload, name)
        finally:
            self._deleting.discard(name)
        self._unsaved.discard(name)
        if self.records.pop(name, None) is not None:
            self.revision += 1
            self.inventory.record(Event(time.time(), "deleted", name, "workload deleted"))
        return True

    async def save_placements(self) -> bool:
        """Writes the placements the scheduling passes changed since the last write, on the
        store's own thread. One write at a time: a call while one is under way leaves its
        changes to that one, which goes on until nothing is left. A write the store does
        not take is logged and tried again at the next call (a restart before then places
        the stored workloads again). Returns whether nothing is left unwritten."""
        if self._saving:
            return False
        self._saving = True
        try:
            while self._unsaved:
                names = sorted(n for n in self._unsaved if n in self.records)
                names = [n for n in names if n not in self._deleting]
                self._unsaved.difference_update(names)
                self._unsaved.intersection_update(self.records)
                if not names:
                    break
                rows = [self.records[n].stored() for n in names]
                self._writing = set(names)
                try:
                    await self._durably(self.store.save_placements, rows)
                except StoreUnavailable as err:
                    self._unsaved.update(n for n in names if n in self.records)
                    log.warning("placements of %d workloads not stored yet: %s", len(rows), err)
                    return False
                finally:
                    self._writing = set()
        finally:
            self._saving = False
        return not self._unsaved

    @property
    def unsaved(self) -> int:
        """How many workloads' placements are changed in memory and not yet stored."""
        return len(self._unsaved | self._writing)

    async def close(self) -> None:
        """Waits (off the event loop) for what is queued on the store's thread, then ends it."""
        await self._writer.close()

    async def _durably(self, write: Callable[[_T], object], value: _T) -> None:
        await self._writer.write(write, value, self.store_seconds)

    # -- scheduling --------------------------------------------------------------------

    def _ordered(self) -> list[WorkloadRecord]:
        return sorted(self.records.values(), key=lambda r: (-r.workload.priority, r.workload.name))

    def _scheduler(
        self,
        skip: set[str],
        *,
        dry: bool = False,
        policies: Sequence[PlacementPolicy] | None = None,
    ) -> tuple[Scheduler, list[WorkloadRecord]]:
        """A scheduler on the live fleet with existing placements reserved; returns the
        records whose placement shrank because their cluster did (changed unless `dry`)."""
        fleet = self.live.get(self.documents)
        if self.unavailable:
            fleet.nodes = {
                k: n for k, n in fleet.nodes.items() if n.cluster not in self.unavailable
            }
        scheduler = Scheduler(fleet, self.policies if policies is None else policies)
        snap = scheduler.snapshot
        shrunk = []
        for record in self._ordered():
            if record.workload.name in skip or not record.placed:
                continue
            w = record.workload
            mask = snap.node_mask(w.archs, w.chips)
            kept: dict[str, int] = {}
            for cluster, replicas in sorted(record.placed.items()):
                index = snap.index.get(cluster)
                if index is not None:  # what still fits on its ready nodes is held
                    snap.reserve(index, replicas, w.cpu_milli, w.memory_bytes, mask)
                if cluster not in self.unavailable:
                    # Only failover moves replicas: stale or lost nodes, a cluster whose
                    # agents are cut off, take no new work but keep what they run.
                    kept[cluster] = replicas
            if kept != record.placed and not dry:
                lost = record.placed.total - sum(kept.values())
                gone = sorted(set(record.placed) - set(kept))
                record.placed = Replicas(kept)
                record.pending += lost
                record.reason = (
                    f"{lost} replicas left unavailable cluster {', '.join(gone)};"
                    " placing them again"
                )
                shrunk.append(record)
        return scheduler, shrunk

    def schedule(
        self, force: set[str] | None = None, now: float | None = None
    ) -> list[WorkloadRecord]:
        """Places pending replicas (and the `force`d workloads from scratch); returns the
        records whose placement changed. Nothing is written here: the caller awaits
        `save_placements()` (on the store's thread) after."""
        force = force or set()
        now = time.time() if now is None else now
        for name in force:
            if name in self.records:
                self.records[name].placed = Replicas()
                self.records[name].pending = self.records[name].workload.replicas
        scheduler, changed = self._scheduler(skip=force)
        self._seen_generation = self.inventory.generation
        for record in self._ordered():
            if record.pending <= 0 and record.workload.name not in force:
                continue
            before = (record.placed, record.pending)
            result = scheduler.place(self._remainder(record))
            self._merge(record, result, now)
            if record.pending and self.unavailable:
                out = ", ".join(sorted(self.unavailable))
                record.reason += f"{HELD_OUT}{out}"
            if (record.placed, record.pending) != before or record.workload.name in force:
                record.generation += 1
                if record not in changed:
                    changed.append(record)
                self._event(record, now)
        if changed:
            self.revision += 1
            self._unsaved.update(r.workload.name for r in changed)
        return changed

    def retry_if_changed(self) -> list[WorkloadRecord]:
        """Schedules pending replicas again if the inventory changed since the last pass."""
        if self.inventory.generation == self._seen_generation:
            return []
        if not any(r.pending for r in self.records.values()):
            self._seen_generation = self.inventory.generation
            return []
        return self.schedule()

    def explain(self, name: str) -> Placement:
        """How the workload would be placed now, with every cluster's verdict (nothing changes)."""
        record = self.records[name]
        scheduler, _ = self._scheduler(skip={name}, dry=True)
        return scheduler.place(record.workload, explain=True)

    def effects(
        self, policies: Sequence[PlacementPolicy] | None = None
    ) -> tuple[list[PolicyEffect], int]:
        """What each policy (the loaded ones, or `policies`) does alone to the workloads now,
        and on how many clusters that was counted."""
        scheduler, _ = self._scheduler(skip=set(), dry=True, policies=policies)
        effects = scheduler.effects([r.workload for r in self._ordered()])
        return effects, len(scheduler.snapshot.clusters)

    @staticmethod
    def _remainder(record: WorkloadRecord) -> Workload:
        covered = len(record.placed)
        return replace(
            record.workload,
            replicas=record.pending,
            min_sites=max(1, record.workload.min_sites - covered),
        )

    @staticmethod
    def _merge(record: WorkloadRecord, result: Placement, now: float) -> None:
        record.placed = record.placed.plus(result.placed)
        record.pending = result.pending
        record.reason = result.reason
        record.summary = result.summary
        record.scheduled_at = now

    def _event(self, record: WorkloadRecord, now: float) -> None:
        placed = record.placed.total
        text = f"{placed}/{record.workload.replicas} placed" + (
            f"; {record.pending} pending: {record.reason}" if record.pending else ""
        )
        self.inventory.record(Event(now, "placement", record.workload.name, text))
