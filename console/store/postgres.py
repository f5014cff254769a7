"""PostgreSQL inventory store: shared by hub replicas, pooled connections, versioned migrations."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool, PoolTimeout

from console.model.inventory import Event
from console.model.replicas import Replicas
from console.store.base import StoredDocument, StoredNode, StoredWorkload
from console.store.leader import check_term
from console.store.migrations import MIGRATIONS, migrate
from console.store.sqlite import StoreError

log = logging.getLogger("tongchou.hub.store")

# NOTIFY channel of every committed change; the payload says what: nodes, events, workloads.
CHANGES_CHANNEL = "tongchou_changes"

_UPSERT_NODE = """
INSERT INTO nodes (name, division, site, cluster, state, first_seen, last_seen, run_id, sequence,
                   interval, identity, capacity, usage, boot_time)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (name) DO UPDATE SET
    division = excluded.division, site = excluded.site, cluster = excluded.cluster,
    state = excluded.state, last_seen = excluded.last_seen, run_id = excluded.run_id,
    sequence = excluded.sequence, interval = excluded.interval, identity = excluded.identity,
    capacity = excluded.capacity, usage = excluded.usage, boot_time = excluded.boot_time,
    revision = nextval('node_revision')
"""

_NODE_COLUMNS = (
    "name, division, site, cluster, state, first_seen, last_seen, run_id, sequence, interval,"
    " identity, capacity, usage, boot_time"
)

_UPSERT_PLACEMENT = """
INSERT INTO placements (workload, placed, pending, reason, summary, generation, scheduled_at)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (workload) DO UPDATE SET
    placed = excluded.placed, pending = excluded.pending, reason = excluded.reason,
    summary = excluded.summary, generation = excluded.generation,
    scheduled_at = excluded.scheduled_at
"""


def redact(url: str) -> str:
    """The URL as it may be logged: any password replaced by `***`."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparsable PostgreSQL URL>"
    if "password" in params:
        params["password"] = "***"
    return make_conninfo("", **params)


def conninfo(url: str, password: str | None = None, application_name: str = "tongchou-hub") -> str:
    """The libpq connection string for `url`, with `password` when given (file or environment)."""
    try:
        params: dict[str, Any] = dict(conninfo_to_dict(url))
    except psycopg.ProgrammingError as err:
        raise StoreError(f"--store {redact(url)}: not a PostgreSQL URL: {err}") from None
    if password is not None:
        params["password"] = password
    params.setdefault("application_name", application_name)
    # A dead peer is noticed in seconds, not after the kernel's two hours of silence.
    params.setdefault("connect_timeout", "10")
    params.setdefault("keepalives_idle", "5")
    params.setdefault("keepalives_interval", "2")
    params.setdefault("keepalives_count", "3")
    return make_conninfo(**params)


class PostgresStore:
    """The inventory in a PostgreSQL database. Thread-safe: each call borrows a pooled
    connection, and each call is one transaction."""

    def __init__(
        self,
        url: str,
        *,
        password: str | None = None,
        min_size: int = 1,
        max_size: int = 4,
        timeout: float = 10.0,
        origin: str = "",
    ) -> None:
        self.url = redact(url)
        self.origin = origin  # this replica's name, on the events it writes
        # While this replica leads: its term, checked by every placement write (fencing).
        self.fence_term: int | None = None
        self.conninfo = conninfo(url, password)
        try:  # one plain connection first: a wrong URL or password is told at once
            psycopg.connect(self.conninfo, connect_timeout=max(2, int(timeout))).close()
        except psycopg.Error as err:
            first = str(err).strip().splitlines()
            raise StoreError(
                f"{self.url}: cannot connect to the PostgreSQL store:"
                f" {first[0] if first else type(err).__name__}"
            ) from None
        self._pool = ConnectionPool(
            self.conninfo,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            open=False,
            name="tongchou-store",
            check=ConnectionPool.check_connection,
        )
        try:
            self._pool.open(wait=True, timeout=timeout)
        except PoolTimeout:
            self._pool.close()
            raise StoreError(
                f"{self.url}: cannot connect to the PostgreSQL store within {timeout:g} s"
            ) from None
        try:
            with self._pool.connection() as conn:
                applied = migrate(conn)
        except psycopg.Error as err:
            self._pool.close()
            raise StoreError(f"{self.url}: cannot migrate the PostgreSQL store: {err}") from None
        except StoreError as err:
            self._pool.close()
            raise StoreError(f"{self.url}: {err}") from None
        if applied:
            log.info("store %s: applied migrations %s", self.url, ", ".join(map(str, applied)))

    @property
    def schema_version(self) -> int:
        return MIGRATIONS[-1].version

    def load_nodes(self) -> list[StoredNode]:
        with self._pool.connection() as conn:
            rows = conn.execute(f"SELECT {_NODE_COLUMNS} FROM nodes ORDER BY name").fetchall()
        return _nodes(rows)

    def nodes_after(self, revision: int) -> tuple[list[StoredNode], int]:
        """The nodes written (by any replica) since `revision`, and the newest revision."""
        with self._pool.connection() as conn:
            rows = conn.execute(
                f"SELECT {_NODE_COLUMNS}, revision FROM nodes WHERE revision > %s"
                " ORDER BY revision",
                (revision,),
            ).fetchall()
        newest = int(str(rows[-1][14])) if rows else revision
        return _nodes([row[:14] for row in rows]), newest

    def events_after(self, last: int, limit: int = 1000) -> tuple[list[Event], int]:
        """Events other replicas wrote after event id `last` (oldest first), and the newest
        id seen; at most the newest `limit`."""
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT id, at, kind, node, message, origin FROM events WHERE id > %s"
                " ORDER BY id DESC LIMIT %s",
                (last, limit),
            ).fetchall()
        newest = int(str(rows[0][0])) if rows else last
        events = [Event(*row[1:5]) for row in reversed(rows) if row[5] != self.origin]
        return events, newest

    def last_event_id(self) -> int:
        with self._pool.connection() as conn:
            row = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()
        return int(str(row[0])) if row else 0

    def load_documents(self) -> list[StoredDocument]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT kind, name, body FROM documents ORDER BY kind, name"
            ).fetchall()
        return [StoredDocument(*row) for row in rows]

    def write_batch(self, nodes: Sequence[StoredNode], events: Sequence[Event]) -> None:
        """Writes every node and event in one transaction: all of it lands, or none. Other
        replicas hear of new events through NOTIFY, sent when the transaction commits."""
        if not nodes and not events:
            return
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            kinds = []
            if nodes:
                kinds.append("nodes")
                cur.executemany(
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
            if events:
                kinds.append("events")
                cur.executemany(
                    "INSERT INTO events (at, kind, node, message, origin)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    [(e.at, e.kind, e.node, e.message, self.origin) for e in events],
                )
            _notify(cur, ",".join(kinds))

    def replace_documents(self, documents: Sequence[StoredDocument]) -> None:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute("DELETE FROM documents")
            if documents:
                cur.executemany(
                    "INSERT INTO documents (kind, name, body) VALUES (%s, %s, %s)",
                    [(d.kind, d.name, d.body) for d in documents],
                )

    def load_workloads(self) -> list[StoredWorkload]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT w.name, w.document, w.submitted_at, p.placed, p.pending, p.reason,"
                " p.summary, p.generation, p.scheduled_at FROM workloads w"
                " LEFT JOIN placements p ON p.workload = w.name ORDER BY w.name"
            ).fetchall()
        return [
            StoredWorkload(
                name,
                document,
                submitted,
                Replicas.from_json(placed),
                pending or 0,
                reason or "",
                summary or "",
                generation or 0,
                at or 0.0,
            )
            for name, document, submitted, placed, pending, reason, summary, generation, at in rows
        ]

    def save_workload(self, workload: StoredWorkload) -> None:
        """Writes a workload and its placement in one transaction."""
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute(
                "INSERT INTO workloads (name, document, submitted_at) VALUES (%s, %s, %s)"
                " ON CONFLICT (name) DO UPDATE SET document = excluded.document,"
                " submitted_at = excluded.submitted_at",
                (workload.name, workload.document, workload.submitted_at),
            )
            cur.execute(_UPSERT_PLACEMENT, _placement_row(workload))
            _notify(cur, "workloads")

    def save_placements(self, workloads: Sequence[StoredWorkload]) -> None:
        """Writes the placements of several workloads in one transaction; refused with
        FencedError when `fence_term` is set and another replica has taken the lead since."""
        if not workloads:
            return
        term = self.fence_term
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            if term is not None:
                check_term(conn, term)
            cur.executemany(_UPSERT_PLACEMENT, [_placement_row(w) for w in workloads])
            _notify(cur, "workloads")

    def delete_workload(self, name: str) -> bool:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute("DELETE FROM workloads WHERE name = %s", (name,))
            gone = cur.rowcount
            cur.execute("DELETE FROM placements WHERE workload = %s", (name,))
            if gone:
                _notify(cur, "workloads")
        return gone > 0

    def recent_events(self, limit: int) -> list[Event]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT at, kind, node, message FROM events ORDER BY id DESC LIMIT %s", (limit,)
            ).fetchall()
        return [Event(*row) for row in reversed(rows)]

    def prune_events(self, keep: int) -> int:
        """Deletes all but the newest `keep` events; returns how many went."""
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute(
                "DELETE FROM events WHERE id <="
                " (SELECT id FROM events ORDER BY id DESC OFFSET %s LIMIT 1)",
                (keep,),
            )
            return cur.rowcount

    def close(self) -> None:
        self._pool.close()


def _notify(cur: psycopg.Cursor[tuple[object, ...]], what: str) -> None:
    """Other replicas hear of the change when (and only if) the transaction commits."""
    cur.execute("SELECT pg_notify(%s, %s)", (CHANGES_CHANNEL, what))


def _nodes(rows: Sequence[Sequence[Any]]) -> list[StoredNode]:
    return [
        StoredNode(
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            row[5],
            row[6],
            row[7],
            row[8],
            row[9],
            bytes(row[10]),
            bytes(row[11]),
            bytes(row[12]),
            row[13],
        )
        for row in rows
    ]


def _placement_row(w: StoredWorkload) -> tuple[object, ...]:
    return (
        w.name,
        w.placed.to_json(),
        w.pending,
        w.reason,
        w.summary,
        w.generation,
        w.scheduled_at,
    )
