"""SQLite inventory store: one file in WAL mode, batched transactions, safe against SIGKILL."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from console.model.inventory import Event
from console.model.replicas import Replicas
from console.store.audit import AUDIT_SCHEMA
from console.store.base import StoredDocument, StoredNode, StoredWorkload
from console.store.credentials import CREDENTIALS_SCHEMA
from console.store.files import make_private
from console.store.places import PLACES_SCHEMA
from console.store.transaction import transaction

SCHEMA_VERSION = 3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    name TEXT PRIMARY KEY,
    division TEXT NOT NULL,
    site TEXT NOT NULL,
    cluster TEXT NOT NULL,
    state TEXT NOT NULL,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    run_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    interval REAL NOT NULL,
    identity BLOB NOT NULL,
    capacity BLOB NOT NULL,
    usage BLOB NOT NULL,
    boot_time REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS nodes_cluster ON nodes (cluster);
CREATE INDEX IF NOT EXISTS nodes_division ON nodes (division);
CREATE TABLE IF NOT EXISTS documents (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS workloads (
    name TEXT PRIMARY KEY,
    document TEXT NOT NULL,
    submitted_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS placements (
    workload TEXT PRIMARY KEY,
    placed TEXT NOT NULL,
    pending INTEGER NOT NULL,
    reason TEXT NOT NULL,
    summary TEXT NOT NULL,
    generation INTEGER NOT NULL,
    scheduled_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    node TEXT NOT NULL,
    message TEXT NOT NULL
);
"""

_UPSERT_NODE = """
INSERT INTO nodes (name, division, site, cluster, state, first_seen, last_seen, run_id, sequence,
                   interval, identity, capacity, usage, boot_time)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET
    division = excluded.division, site = excluded.site, cluster = excluded.cluster,
    state = excluded.state, last_seen = excluded.last_seen, run_id = excluded.run_id,
    sequence = excluded.sequence, interval = excluded.interval, identity = excluded.identity,
    capacity = excluded.capacity, usage = excluded.usage, boot_time = excluded.boot_time
"""


class StoreError(RuntimeError):
    """The store file cannot be opened or is not a Tongchou store."""


class SqliteStore:
    """The inventory in one SQLite file. Safe to call from one thread at a time (it locks)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            make_private(path)  # token hashes and the audit log: for the hub's user only
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA + AUDIT_SCHEMA + CREDENTIALS_SCHEMA + PLACES_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        except (sqlite3.Error, OSError) as err:
            raise StoreError(f"{path}: cannot open the inventory store: {err}") from None
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif row[0] in ("1", "2"):  # 2 added workloads, 3 audit, tokens, users
            self._db.execute(
                "UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),)
            )
        elif row[0] != str(SCHEMA_VERSION):
            raise StoreError(f"{path}: store schema {row[0]} is not the supported {SCHEMA_VERSION}")

    def load_nodes(self) -> list[StoredNode]:
        with self._lock:
            rows = self._db.execute(
                "SELECT name, division, site, cluster, state, first_seen, last_seen, run_id,"
                " sequence, interval, identity, capacity, usage, boot_time FROM nodes"
                " ORDER BY name"
            ).fetchall()
        return [StoredNode(*row) for row in rows]

    def load_documents(self) -> list[StoredDocument]:
        with self._lock:
            rows = self._db.execute(
                "SELECT kind, name, body FROM documents ORDER BY kind, name"
            ).fetchall()
        return [StoredDocument(*row) for row in rows]

    def write_batch(self, nodes: Sequence[StoredNode], events: Sequence[Event]) -> None:
        """Writes every node and event in one transaction: all of it lands, or none."""
        if not nodes and not events:
            return
        with self._lock, transaction(self._db):
            self._db.executemany(
                _UPSERT_NODE,
                [
                    (
                        n.name,
                        n.division,
                        n.site,
                        n.cluster,
                        n.state,
                        n.first_seen,
                        n.last_seen,
                        n.run_id,
                        n.sequence,
                        n.interval,
                        n.identity,
                        n.capacity,
                        n.usage,
                        n.boot_time,
                    )
                    for n in nodes
                ],
            )
            self._db.executemany(
                "INSERT INTO events (at, kind, node, message) VALUES (?, ?, ?, ?)",
                [(e.at, e.kind, e.node, e.message) for e in events],
            )

    def replace_documents(self, documents: Sequence[StoredDocument]) -> None:
        with self._lock, transaction(self._db):
            self._db.execute("DELETE FROM documents")
            self._db.executemany(
                "INSERT INTO documents (kind, name, body) VALUES (?, ?, ?)",
                [(d.kind, d.name, d.body) for d in documents],
            )

    def load_workloads(self) -> list[StoredWorkload]:
        with self._lock:
            rows = self._db.execute(
                "SELECT w.name, w.document, w.submitted_at, p.placed, p.pending, p.reason,"
                " p.summary, p.generation, p.scheduled_at FROM workloads w"
                " LEFT JOIN placements p ON p.workload = w.name ORDER BY w.name"
            ).fetchall()
        out = []
        for name, document, submitted, placed, pending, reason, summary, generation, at in rows:
            out.append(
                StoredWorkload(
                    name, document, submitted, Replicas.from_json(placed),
                    pending or 0, reason or "", summary or "", generation or 0, at or 0.0,
                )
            )  # fmt: skip
        return out

    def save_workload(self, workload: StoredWorkload) -> None:
        """Writes a workload and its placement in one transaction."""
        with self._lock, transaction(self._db):
            self._db.execute(
                "INSERT INTO workloads (name, document, submitted_at) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET document = excluded.document,"
                " submitted_at = excluded.submitted_at",
                (workload.name, workload.document, workload.submitted_at),
            )
            self._write_placement(workload)

    def save_placements(self, workloads: Sequence[StoredWorkload]) -> None:
        """Writes the placements of several workloads in one transaction."""
        if not workloads:
            return
        with self._lock, transaction(self._db):
            for workload in workloads:
                self._write_placement(workload)

    def _write_placement(self, w: StoredWorkload) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO placements (workload, placed, pending, reason, summary,"
            " generation, scheduled_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                w.name, w.placed.to_json(), w.pending, w.reason, w.summary,
                w.generation, w.scheduled_at,
            ),
        )  # fmt: skip

    def delete_workload(self, name: str) -> bool:
        with self._lock, transaction(self._db):
            gone = self._db.execute("DELETE FROM workloads WHERE name = ?", (name,)).rowcount
            self._db.execute("DELETE FROM placements WHERE workload = ?", (name,))
        return gone > 0

    def recent_events(self, limit: int) -> list[Event]:
        with self._lock:
            rows = self._db.execute(
                "SELECT at, kind, node, message FROM events ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [Event(*row) for row in reversed(rows)]

    def prune_events(self, keep: int) -> int:
        """Deletes all but the newest `keep` events; returns how many went."""
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?", (keep,)
            )
            return cursor.rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()
