"""Writing the audit log off the caller's thread, and opening it with its key and witness."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from console.store.audit import AuditEntry, AuditError, AuditLog, default_key_path, load_key
from console.store.sql import Database
from console.store.witness import Witness, default_witness_path


def open_log(
    store: Path | Database,
    key_path: Path | None = None,
    *,
    witness: Path | None = None,
    create: bool = False,
) -> AuditLog:
    """The audit log of a store with its key and witness (beside the key by default). With
    `create`, a missing key is made, and a missing witness too while the chain is empty. A
    shared (PostgreSQL) store has no file to keep the key beside: its key is named, and every
    hub replica is given the same key."""
    if key_path is None:
        if not isinstance(store, Path):
            raise AuditError(
                f"{store.where}: a postgresql:// store needs the audit key named"
                " (--audit-key, the same file for every hub replica)"
            )
        key_path = default_key_path(store)
    key = load_key(key_path, create=create)
    log = AuditLog(store, key, witness=Witness(witness or default_witness_path(key_path), key))
    if create and log.witness is not None and not log.witness.exists():
        if log.is_empty():
            log.witness.create()
        elif not isinstance(store, Path):
            _join(log)
    return log


def _join(log: AuditLog) -> None:
    """A hub replica without a witness joins a shared chain others have written: its witness
    starts at the current head, once the chain verifies, and the start is itself audited.
    (The other replicas' witnesses still see a rollback of what came before.)"""
    assert log.witness is not None
    verdict = log.verify_chain()
    if not verdict.ok:
        raise AuditError(
            f"{log.path}: the audit chain is broken ({verdict.problem}); no new witness"
            f" {log.witness.path} is started on it"
        )
    log.witness.create()
    seq = log.head()[0]
    log.append(
        AuditEntry(
            "hub",
            "audit.witness-start",
            str(log.witness.path),
            "ok",
            detail=f"a hub replica's new witness starts after record {seq}",
        )
    )


class AuditWriter:
    """Appends audit entries on a thread of its own, so the hub's event loop never waits on
    the disk: `submit` queues, the thread appends what has gathered in one transaction and
    witnesses the head at most once a second (and on `flush` and `close`)."""

    def __init__(
        self,
        log: AuditLog,
        on_error: Callable[[AuditError, AuditEntry], None] | None = None,
        on_written: Callable[[int], None] | None = None,
    ) -> None:
        self.log = log
        self.on_error = on_error
        self.on_written = on_written  # told the newest sequence number after each batch
        self._queue: queue.Queue[AuditEntry | threading.Event | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._thread.start()

    def submit(self, entry: AuditEntry) -> None:
        self._queue.put(entry)

    def flush(self, timeout: float = 30.0) -> None:
        """Blocks until everything submitted so far is written and witnessed."""
        done = threading.Event()
        self._queue.put(done)
        done.wait(timeout)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(30.0)

    def _run(self) -> None:
        stop, unwitnessed = False, False
        while not stop:
            batch: list[AuditEntry] = []
            waiting: list[threading.Event] = []
            try:
                item = self._queue.get(timeout=1.0 if unwitnessed else None)
            except queue.Empty:  # quiet for a second: witness what was written
                self._write([], True)
                unwitnessed = False
                continue
            while True:
                if item is None:
                    stop = True
                elif isinstance(item, threading.Event):
                    waiting.append(item)
                else:
                    batch.append(item)
                if len(batch) >= 500:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            witness = self.log.witness
            due = (
                stop
                or bool(waiting)
                or (witness is not None and time.monotonic() - witness.last_written >= 1.0)
            )
            self._write(batch, due)
            unwitnessed = bool(batch) and not due
            for event in waiting:
                event.set()

    def _write(self, batch: list[AuditEntry], witness_now: bool) -> None:
        try:
            if batch:
                records = self.log.append_many(batch, witness=False)
                if self.on_written is not None:
                    self.on_written(records[-1].seq)
            if witness_now:
                self.log.witness_head()
        except AuditError as err:
            if self.on_error is not None:
                self.on_error(err, batch[0] if batch else AuditEntry("hub", "audit", "", ""))
