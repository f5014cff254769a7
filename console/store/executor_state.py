"""The executor's durable state in the store file: the hub's identity and failover.

The identity is made once, when the store is new, and names the hub on every Kubernetes
object it creates (`tongchou.io/owned-by`): a hub started on another or an empty store has
another identity, and leaves the first hub's objects alone until the operator adopts them.
Failover (which clusters are out, why, since when, and which workloads left each) is written
at every transition, and the move-back queue and the moves under way whenever they change,
so a restart neither brings a cluster back early, nor forgets what a move-back should
return, nor breaks a move before its new replicas are ready.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from console.model.replicas import Replicas

EXECUTOR_SCHEMA = """
CREATE TABLE IF NOT EXISTS executor_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS failover (
    cluster TEXT PRIMARY KEY,
    available INTEGER NOT NULL,
    reason TEXT NOT NULL,
    since REAL NOT NULL,
    displaced TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS moveback (
    position INTEGER PRIMARY KEY,
    workload TEXT NOT NULL UNIQUE,
    old TEXT
);
"""


@dataclass(frozen=True, slots=True)
class ClusterFailover:
    """One cluster's failover state: out of service (`available` false) since `since`, why,
    and the workloads failover moved off it (what `--move-back always` returns)."""

    cluster: str
    available: bool
    reason: str
    since: float
    displaced: frozenset[str] = field(default_factory=frozenset)


class ExecutorState:
    """Its own connection to the store file (SQLite serialises the writes with the hub's)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(EXECUTOR_SCHEMA)

    def identity(self) -> str:
        """The hub's identity, made the first time the store is used (`hub-<16 hex>`)."""
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO executor_meta VALUES ('identity', ?)",
                (f"hub-{secrets.token_hex(8)}",),
            )
            row = self._db.execute(
                "SELECT value FROM executor_meta WHERE key = 'identity'"
            ).fetchone()
        return str(row[0])

    def load(self) -> list[ClusterFailover]:
        with self._lock:
            rows = self._db.execute(
                "SELECT cluster, available, reason, since, displaced FROM failover"
            ).fetchall()
        return [
            ClusterFailover(c, bool(a), r, float(s), frozenset(json.loads(d)))
            for c, a, r, s, d in rows
        ]

    def save(self, states: list[ClusterFailover]) -> None:
        """Writes the given clusters' state in one transaction (a cluster available again
        with nothing displaced is removed)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for s in states:
                    if s.available and not s.displaced:
                        self._db.execute("DELETE FROM failover WHERE cluster = ?", (s.cluster,))
                        continue
                    self._db.execute(
                        "INSERT OR REPLACE INTO failover VALUES (?, ?, ?, ?, ?)",
                        (
                            s.cluster,
                            int(s.available),
                            s.reason,
                            s.since,
                            json.dumps(sorted(s.displaced)),
                        ),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def load_moves(self) -> tuple[list[str], dict[str, Replicas]]:
        """The move-back queue, in order, and the moves under way (workload → its placement
        before the move)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT workload, old FROM moveback ORDER BY position"
            ).fetchall()
        queued = [str(w) for w, old in rows if old is None]
        moves = {str(w): Replicas.from_json(old) for w, old in rows if old is not None}
        return queued, moves

    def save_moves(self, queued: list[str], moves: Mapping[str, Replicas]) -> None:
        """Replaces the stored move-back queue and moves in one transaction."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM moveback")
                rows: list[tuple[str, str | None]] = [
                    (w, old.to_json()) for w, old in sorted(moves.items())
                ]
                rows += [(w, None) for w in queued]
                self._db.executemany(
                    "INSERT INTO moveback (position, workload, old) VALUES (?, ?, ?)",
                    [(i, w, old) for i, (w, old) in enumerate(rows)],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._db.close()
