"""The PostgreSQL store's schema as numbered migrations, applied in order at start-up."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from console.store.sqlite import StoreError


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "inventory: nodes, documents, workloads, placements, events",
        """
        CREATE TABLE nodes (
            name TEXT PRIMARY KEY,
            division TEXT NOT NULL,
            site TEXT NOT NULL,
            cluster TEXT NOT NULL,
            state TEXT NOT NULL,
            first_seen DOUBLE PRECISION NOT NULL,
            last_seen DOUBLE PRECISION NOT NULL,
            run_id TEXT NOT NULL,
            sequence BIGINT NOT NULL,
            interval DOUBLE PRECISION NOT NULL,
            identity BYTEA NOT NULL,
            capacity BYTEA NOT NULL,
            usage BYTEA NOT NULL,
            boot_time DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX nodes_cluster ON nodes (cluster);
        CREATE INDEX nodes_division ON nodes (division);
        CREATE TABLE documents (
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (kind, name)
        );
        CREATE TABLE workloads (
            name TEXT PRIMARY KEY,
            document TEXT NOT NULL,
            submitted_at DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE placements (
            workload TEXT PRIMARY KEY,
            placed TEXT NOT NULL,
            pending BIGINT NOT NULL,
            reason TEXT NOT NULL,
            summary TEXT NOT NULL,
            generation BIGINT NOT NULL,
            scheduled_at DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE events (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at DOUBLE PRECISION NOT NULL,
            kind TEXT NOT NULL,
            node TEXT NOT NULL,
            message TEXT NOT NULL
        );
        """,
    ),
    Migration(
        2,
        "leader election: the term of the replica that leads, for fencing its writes",
        """
        CREATE TABLE hub_leader (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            term BIGINT NOT NULL,
            holder TEXT NOT NULL,
            since TIMESTAMPTZ NOT NULL
        );
        INSERT INTO hub_leader VALUES (1, 0, '', now());
        """,
    ),
    Migration(
        3,
        "replicas: a revision per node write and the writing replica of each event",
        """
        CREATE SEQUENCE node_revision;
        ALTER TABLE nodes ADD COLUMN revision BIGINT NOT NULL DEFAULT nextval('node_revision');
        CREATE INDEX nodes_revision ON nodes (revision);
        ALTER TABLE events ADD COLUMN origin TEXT NOT NULL DEFAULT '';
        """,
    ),
)

# Any fixed number works, as long as nothing else sharing the database takes it.
MIGRATION_LOCK = 0x746F6E67_6D696772  # "tongmigr"


class SchemaError(StoreError):
    """The database holds a schema this version of Tongchou does not know."""


def migrate(conn: psycopg.Connection[tuple[object, ...]]) -> list[int]:
    """Applies the missing migrations in one transaction, serialised across replicas by an
    advisory lock; returns the versions applied (none when the schema is current)."""
    latest = MIGRATIONS[-1].version
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
            " description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        done = {int(str(v)) for (v,) in conn.execute("SELECT version FROM schema_migrations")}
        newer = sorted(v for v in done if v > latest)
        if newer:
            raise SchemaError(
                f"store schema {newer[-1]} is newer than this hub's {latest}:"
                " upgrade the hub, or point it at another database"
            )
        applied = []
        for migration in MIGRATIONS:
            if migration.version in done:
                continue
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO schema_migrations (version, description) VALUES (%s, %s)",
                (migration.version, migration.description),
            )
            applied.append(migration.version)
    return applied
