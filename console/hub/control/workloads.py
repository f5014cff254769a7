"""Workloads in the hub: submitted documents, scheduled against the live inventory, stored.

Placements stay where they are once made: a new pass reserves every existing placement
first (highest priority first), then places what is pending. A placement whose cluster
shrank keeps what still fits and the rest turns pending, to be placed again elsewhere.
Pending replicas are retried whenever the inventory changes (a node joins, recovers or
goes away), at most every `retry_interval` seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from console.documents import LoadError, load_text, workloads_of
from console.hub.fleet.inventory import Inventory
from console.hub.fleet.view import live_fleet
from console.model.fleet import Fleet
from console.model.inventory import Event
from console.model.workload import PlacementPolicy, Workload
from console.scheduler import Placement, PolicyEffect, Scheduler
from console.store.base import InventoryStore, StoredWorkload

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
    workload: Workload
    document: str
    submitted_at: float
    placed: dict[str, int]
    pending: int
    reason: str = ""
    summary: str = ""
    generation: int = 0
    scheduled_at: float = 0.0

    def stored(self) -> StoredWorkload:
        return StoredWorkload(
            self.workload.name, self.document, self.submitted_at, dict(self.placed),
            self.pending, self.reason, self.summary, self.generation, self.scheduled_at,
        )  # fmt: skip


@dataclass(slots=True)
class Held:
    """What placed replicas request in one cluster."""

    cpu_milli: int = 0
    memory_bytes: int = 0
    replicas: int = 0

    def add(self, other: Held) -> None:
        self.cpu_milli += other.cpu_milli
        self.memory_bytes += other.memory_bytes
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
            held.cpu_milli += replicas * w.cpu_milli
            held.memory_bytes += replicas * w.memory_bytes
            held.replicas += replicas
    return out


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
        self._seen_generation = -1
        # Clusters failover has taken out of service → why; they take no replicas.
        self.unavailable: dict[str, str] = {}

    def load(self) -> None:
        """Reads the stored workloads back (after a restart)."""
        for row in self.store.load_workloads():
            docs = load_text(
                row.document, f"stored workload {row.name}", known={"Division": _Anything()}
            )
            (workload,) = workloads_of(docs)
            self.records[row.name] = WorkloadRecord(
                workload, row.document, row.submitted_at, dict(row.placed), row.pending,
                row.reason, row.summary, row.generation, row.scheduled_at,
            )  # fmt: skip

    # -- changes -----------------------------------------------------------------------

    def parse(self, text: str) -> Workload:
        """The one Workload of a submitted document; WorkloadError says what is wrong."""
        fleet = live_fleet(self.documents, self.inventory)
        try:
            docs = load_text(text, "submitted document", known={"Division": set(fleet.divisions)})
        except LoadError as err:
            raise WorkloadError(str(err)) from None
        workloads = workloads_of(docs)
        others = [d.kind for d in docs if d.kind != "Workload"]
        if len(workloads) != 1 or others:
            raise WorkloadError(
                f"submit exactly one Workload document (got {len(workloads)} Workload"
                + (f" and {', '.join(others)}" if others else "")
                + ")"
            )
        return workloads[0]

    def submit(self, text: str, now: float | None = None) -> WorkloadRecord:
        """Stores the workload (replacing one of the same name) and schedules it."""
        workload = self.parse(text)
        now = time.time() if now is None else now
        old = self.records.get(workload.name)
        record = WorkloadRecord(
            workload, text, now, {}, workload.replicas, "not scheduled yet",
            generation=old.generation if old else 0,
        )  # fmt: skip
        self.records[workload.name] = record
        self.schedule(force={workload.name}, now=now)
        self.store.save_workload(record.stored())
        return record

    def delete(self, name: str) -> bool:
        if self.records.pop(name, None) is None:
            return False
        self.store.delete_workload(name)
        self.inventory.record(Event(time.time(), "deleted", name, "workload deleted"))
        return True

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
        fleet = live_fleet(self.documents, self.inventory)
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
                got = (
                    snap.reserve(index, replicas, w.cpu_milli, w.memory_bytes, mask)
                    if index is not None
                    else 0
                )
                if got:
                    kept[cluster] = got
            if kept != record.placed and not dry:
                lost = sum(record.placed.values()) - sum(kept.values())
                gone = sorted(set(record.placed) & set(self.unavailable))
                record.placed = kept
                record.pending += lost
                record.reason = (
                    f"{lost} replicas left unavailable cluster {', '.join(gone)};"
                    " placing them again"
                    if gone
                    else f"{lost} replicas lost their room; placing them again"
                )
                shrunk.append(record)
        return scheduler, shrunk

    def schedule(
        self, force: set[str] | None = None, now: float | None = None
    ) -> list[WorkloadRecord]:
        """Places pending replicas (and the `force`d workloads from scratch); returns the
        records whose placement changed."""
        force = force or set()
        now = time.time() if now is None else now
        for name in force:
            if name in self.records:
                self.records[name].placed = {}
                self.records[name].pending = self.records[name].workload.replicas
        scheduler, changed = self._scheduler(skip=force)
        self._seen_generation = self.inventory.generation
        for record in self._ordered():
            if record.pending <= 0 and record.workload.name not in force:
                continue
            before = (dict(record.placed), record.pending)
            result = scheduler.place(self._remainder(record))
            self._merge(record, result, now)
            if (dict(record.placed), record.pending) != before or record.workload.name in force:
                record.generation += 1
                if record not in changed:
                    changed.append(record)
                self._event(record, now)
        if changed:
            self.store.save_placements(
                [r.stored() for r in changed if r.workload.name not in force]
            )
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
        for cluster, replicas in result.placed.items():
            record.placed[cluster] = record.placed.get(cluster, 0) + replicas
        record.pending = result.pending
        record.reason = result.reason
        record.summary = result.summary
        record.scheduled_at = now

    def _event(self, record: WorkloadRecord, now: float) -> None:
        placed = sum(record.placed.values())
        text = f"{placed}/{record.workload.replicas} placed" + (
            f"; {record.pending} pending: {record.reason}" if record.pending else ""
        )
        self.inventory.record(Event(now, "placement", record.workload.name, text))
