"""The national hub's roll-up table: each province's newest summary (an opaque blob) and when
it arrived, in the hub's SQLite file, so a restarted national hub still shows every province."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from console.store.transaction import transaction

ROLLUP_SCHEMA = """
CREATE TABLE IF NOT EXISTS rollup_provinces (
    province    TEXT PRIMARY KEY,
    summary     BLOB NOT NULL,
    received_at REAL NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class StoredSummary:
    """A province's summary as it was received (serialized), and when (Unix seconds)."""

    province: str
    summary: bytes
    received_at: float


class RollupStore:
    """One province, one row: the newest summary replaces the one before. Thread-safe; the
    hub calls it from worker threads, never from its event loop."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(ROLLUP_SCHEMA)

    def put(self, row: StoredSummary) -> None:
        with self._lock, transaction(self._db):
            self._db.execute(
                "INSERT INTO rollup_provinces (province, summary, received_at) VALUES (?, ?, ?)"
                " ON CONFLICT (province) DO UPDATE SET summary = excluded.summary,"
                " received_at = excluded.received_at",
                (row.province, row.summary, row.received_at),
            )

    def load(self) -> list[StoredSummary]:
        with self._lock:
            rows = self._db.execute(
                "SELECT province, summary, received_at FROM rollup_provinces ORDER BY province"
            ).fetchall()
        return [StoredSummary(str(p), bytes(s), float(t)) for p, s, t in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
