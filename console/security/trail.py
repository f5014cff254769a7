"""The hub's audit trail: appends on a writer thread (never on the event loop), refusals
aggregated per peer and minute, the chain verified against its witness at start-up and on a
timer, pruning past the retention, and the gauges that carry the head outside the store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Protocol

from prometheus_client import CollectorRegistry, Gauge

from console.security.flood import RefusalAggregator
from console.store.audit import AuditEntry, AuditError, Verdict
from console.store.audit_writer import AuditWriter, open_log
from console.store.sql import Database

log = logging.getLogger("tongchou.audit")
FLUSH_EVERY = 10.0  # seconds between writes of the refusal counts of ended minutes


class _Gauges(Protocol):
    audit_chain_ok: Gauge
    registry: CollectorRegistry


class AuditTrail:
    def __init__(
        self, store: Path | Database, key: Path | None, witness: Path | None, metrics: _Gauges
    ) -> None:
        """The log of `store` (a SQLite file, or the tables of a shared PostgreSQL store), its
        key and witness (defaults beside the store file), and the hub's
        `tongchou_audit_chain_ok` gauge and registry."""
        self.log = open_log(store, key, witness=witness, create=True)
        self.chain_ok = metrics.audit_chain_ok
        registry = metrics.registry
        self.head = Gauge(
            "tongchou_audit_head_sequence",
            "Sequence number of the newest audit record: every record ever appended. It never "
            "goes down; a drop means the log was wiped or rolled back.",
            registry=registry,
        )
        self.head.set(self.log.head()[0])
        self.writer = AuditWriter(self.log, self._failed, self.head.set)
        self.refusals = RefusalAggregator(self.writer.submit)

    def record(self, entry: AuditEntry) -> None:
        """Queues an entry (refusals anyone can cause are aggregated); never blocks."""
        self.refusals(entry)

    def flush(self) -> None:
        """Blocks until every entry recorded so far is written and witnessed."""
        self.writer.flush()

    def _failed(self, err: AuditError, entry: AuditEntry) -> None:
        self.chain_ok.set(0)
        log.error("AUDIT WRITE FAILED (%s): %s", err, entry)

    async def verify(self) -> Verdict:
        """Verifies the chain and its witness on a worker thread; a broken chain is logged at
        once and drops `tongchou_audit_chain_ok` to 0."""
        try:
            await asyncio.to_thread(self.writer.flush)
            verdict = await asyncio.to_thread(self.log.verify)
        except AuditError as err:
            log.error("AUDIT CHECK FAILED: %s", err)
            self.chain_ok.set(0)
            return Verdict(False, 0, None, str(err))
        self.chain_ok.set(1 if verdict.ok else 0)
        if verdict.ok:
            seq, head = self.log.head()
            log.info("audit chain verified: %d records, head %d %s", verdict.records, seq, head)
        else:
            where = f" at record {verdict.bad_seq}" if verdict.bad_seq else ""
            log.error("AUDIT CHAIN BROKEN%s: %s", where, verdict.problem)
        return verdict

    async def run(self, stop: asyncio.Event, *, interval: float, retention_months: int) -> None:
        """Writes refusal counts every FLUSH_EVERY seconds; prunes and verifies every
        `interval`."""
        loop = asyncio.get_running_loop()
        checked = loop.time()
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), min(FLUSH_EVERY, interval))
            self.refusals.flush()
            if stop.is_set() or loop.time() - checked < interval:
                continue
            checked = loop.time()
            try:
                await asyncio.to_thread(self.writer.flush)
                await asyncio.to_thread(self.log.prune, months=retention_months)
            except AuditError as err:
                log.error("audit pruning failed: %s", err)
                self.chain_ok.set(0)
                continue
            await self.verify()

    def close(self) -> None:
        self.refusals.flush(everything=True)
        self.writer.close()
        self.log.close()
