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
    Migration(
        4,
        "security and failover: audit chain, join tokens, users, certificates, executor state",
        """
        CREATE TABLE audit (
            seq BIGINT PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            role TEXT NOT NULL,
            scope TEXT NOT NULL,
            action TEXT NOT NULL,
            object TEXT NOT NULL,
            outcome TEXT NOT NULL,
            digest TEXT NOT NULL,
            detail TEXT NOT NULL,
            prev TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE INDEX audit_at ON audit (at);
        CREATE TABLE audit_head (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seq BIGINT NOT NULL,
            hash TEXT NOT NULL,
            mac TEXT NOT NULL
        );
        CREATE TABLE audit_anchor (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seq BIGINT NOT NULL,
            hash TEXT NOT NULL,
            pruned_at TEXT NOT NULL
        );
        CREATE TABLE join_tokens (
            id TEXT PRIMARY KEY,
            hash TEXT NOT NULL,
            node TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL,
            used_at DOUBLE PRECISION
        );
        CREATE TABLE revoked_certs (
            serial TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            revoked_at DOUBLE PRECISION NOT NULL,
            reason TEXT NOT NULL
        );
        CREATE TABLE users (
            name TEXT PRIMARY KEY,
            roles TEXT NOT NULL,
            scope TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            created_at DOUBLE PRECISION NOT NULL,
            id TEXT NOT NULL
        );
        CREATE TABLE certificates (
            serial TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            lineage TEXT NOT NULL,
            parent TEXT NOT NULL,
            owner TEXT NOT NULL,
            not_before DOUBLE PRECISION NOT NULL,
            not_after DOUBLE PRECISION NOT NULL,
            issued_at DOUBLE PRECISION NOT NULL,
            issued_by TEXT NOT NULL
        );
        CREATE INDEX certificates_name ON certificates (kind, name);
        CREATE INDEX certificates_lineage ON certificates (lineage);
        CREATE TABLE revoked_lineages (
            lineage TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            revoked_at DOUBLE PRECISION NOT NULL,
            reason TEXT NOT NULL
        );
        CREATE TABLE revoked_names (
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            before DOUBLE PRECISION NOT NULL,
            reason TEXT NOT NULL,
            PRIMARY KEY (kind, name)
        );
        CREATE TABLE enrolment_codes (
            "user" TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            hash TEXT NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE pending_changes (
            id TEXT PRIMARY KEY,
            action TEXT NOT NULL,
            "user" TEXT NOT NULL,
            roles TEXT NOT NULL,
            requested_by TEXT NOT NULL,
            requested_at DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE executor_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE failover (
            cluster TEXT PRIMARY KEY,
            available INTEGER NOT NULL,
            reason TEXT NOT NULL,
            since DOUBLE PRECISION NOT NULL,
            displaced TEXT NOT NULL
        );
        CREATE TABLE moveback (
            position INTEGER PRIMARY KEY,
            workload TEXT NOT NULL UNIQUE,
            old TEXT
        );
        """,
    ),
    Migration(
        5,
        "node places from join tokens: a token's division, site and cluster, and the node's",
        """
        CREATE TABLE join_token_places (
            id TEXT PRIMARY KEY,
            division TEXT NOT NULL,
            site TEXT NOT NULL,
            cluster TEXT NOT NULL
        );
        CREATE TABLE node_places (
            node TEXT PRIMARY KEY,
            division TEXT NOT NULL,
            site TEXT NOT NULL,
            cluster TEXT NOT NULL,
            token TEXT NOT NULL,
            enrolled_at DOUBLE PRECISION NOT NULL
        );
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
