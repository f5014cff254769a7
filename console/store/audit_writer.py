"""Writing the audit log off the caller's thread, and opening it with its key and witness."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from console.store.audit import AuditEntry, AuditError, AuditLog, default_key_path, load_key
from console.store.witness import Witness, default_witness_path


def open_log(
    store: Path, key_path: Path | None = None, *, witness: Path | None = None, create: bool = False
) -> AuditLog:
    """The audit log of a store with its key and witness (beside the key by default). With
    `create`, a missing key is made, and a missing witness too while the chain is empty."""
    key_path = key_path or default_key_path(store)
    key = load_key(key_path, create=create)
    log = AuditLog(store, key, witness=Witness(witness or default_witness_path(key_path), key))
    if create and log.witness is not None and not log.witness.exists() and log.is_empty():
        log.witness.create()
    return log


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
