"""The executor's durable state in the store: the hub's identity and failover.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from console.model.replicas import Replicas
from console.store.sql import Database, Session, database_of

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


# The move-back queue, in order, and the moves under way (workload → its placement before).
Moves = tuple[list[str], dict[str, Replicas]]


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
    """Its own connection to the store (the database serialises the writes with the hub's);
    on a shared PostgreSQL store every replica reads what the leader before it wrote."""

    def __init__(self, store: Path | Database) -> None:
        self.db = database_of(store, EXECUTOR_SCHEMA)
        self.path = self.db.where
        # On a shared store: the term this replica leads in (None when it does not lead);
        # every write checks it in its transaction, so a deposed leader writes nothing.
        self.fence: Callable[[], int | None] | None = None

    def _check_fence(self, s: Session) -> None:
        if self.fence is None:
            return
        from console.store.leader import FencedError

        term = self.fence()
        row = s.one("SELECT term, holder FROM hub_leader WHERE id = 1 FOR SHARE")
        if term is None or row is None or int(row[0]) != term:
            holder = f"{row[1]} leads in term {row[0]}" if row is not None else "nobody leads"
            raise FencedError(f"failover state not written: this replica does not lead ({holder})")

    def identity(self) -> str:
        """The hub's identity, made the first time the store is used (`hub-<16 hex>`)."""
        with self.db.transaction() as s:
            s.execute(
                "INSERT INTO executor_meta VALUES ('identity', ?) ON CONFLICT (key) DO NOTHING",
                (f"hub-{secrets.token_hex(8)}",),
            )
            row = s.one("SELECT value FROM executor_meta WHERE key = 'identity'")
        assert row is not None
        return str(row[0])

    def load(self) -> list[ClusterFailover]:
        with self.db.session() as s:
            rows = s.all("SELECT cluster, available, reason, since, displaced FROM failover")
        return [
            ClusterFailover(c, bool(a), r, float(s), frozenset(json.loads(d)))
            for c, a, r, s, d in rows
        ]

    def save(self, states: list[ClusterFailover]) -> None:
        """Writes the given clusters' state in one transaction (a cluster available again
        with nothing displaced is removed)."""
        with self.db.transaction() as s:
            self._check_fence(s)
            for st in states:
                if st.available and not st.displaced:
                    s.execute("DELETE FROM failover WHERE cluster = ?", (st.cluster,))
                    continue
                s.execute(
                    "INSERT INTO failover VALUES (?, ?, ?, ?, ?) ON CONFLICT (cluster) DO UPDATE"
                    " SET available = excluded.available, reason = excluded.reason,"
                    " since = excluded.since, displaced = excluded.displaced",
                    (
                        st.cluster,
                        int(st.available),
                        st.reason,
                        st.since,
                        json.dumps(sorted(st.displaced)),
                    ),
                )

    def load_all(self) -> tuple[list[ClusterFailover], Moves]:
        """The clusters' failover state and the move-back state, read together."""
        return self.load(), self.load_moves()

    def load_moves(self) -> Moves:
        """The move-back queue, in order, and the moves under way (workload → its placement
        before the move)."""
        with self.db.session() as s:
            rows = s.all("SELECT workload, old FROM moveback ORDER BY position")
        queued = [str(w) for w, old in rows if old is None]
        moves = {str(w): Replicas.from_json(old) for w, old in rows if old is not None}
        return queued, moves

    def save_moves(self, queued: list[str], moves: Mapping[str, Replicas]) -> None:
        """Replaces the stored move-back queue and moves in one transaction."""
        rows: list[tuple[str, str | None]] = [
            (w, old.to_json()) for w, old in sorted(moves.items())
        ]
        rows += [(w, None) for w in queued]
        with self.db.transaction() as s:
            self._check_fence(s)
            s.execute("DELETE FROM moveback")
            for i, (w, old) in enumerate(rows):
                s.execute(
                    "INSERT INTO moveback (position, workload, old) VALUES (?, ?, ?)", (i, w, old)
                )

    def close(self) -> None:
        self.db.close()
