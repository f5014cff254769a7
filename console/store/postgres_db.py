"""The security and executor tables' Database on PostgreSQL: a small pool of its own, the schema
migrated on opening, `?` placeholders, advisory locks to serialise writers that must not race."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from console.store.migrations import migrate
from console.store.postgres import PostgresStore, conninfo, redact
from console.store.sql import Cursor, DbError, DbIntegrityError, Session

_PLACEHOLDER = re.compile(r"\?")


def _error(err: Exception) -> DbError:
    if isinstance(err, psycopg.errors.IntegrityError):
        return DbIntegrityError(str(err).strip())
    first = str(err).strip().splitlines()
    return DbError(first[0] if first else type(err).__name__)


class PostgresDatabase:
    """A pool on the store's database, shared by the audit log, the credentials and the
    executor state of one process."""

    dialect = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        password: str | None = None,
        max_size: int = 2,
        timeout: float = 10.0,
        application_name: str = "tongchou-hub",
        where: str = "",
    ) -> None:
        self.where = where or redact(url)
        info = conninfo(url, password, application_name)
        self._pool = ConnectionPool(
            info,
            min_size=1,
            max_size=max_size,
            timeout=timeout,
            open=False,
            name="tongchou-security",
            check=ConnectionPool.check_connection,
        )
        try:
            self._pool.open(wait=True, timeout=timeout)
            with self._pool.connection() as conn:
                migrate(conn)
        except PoolTimeout:
            self._pool.close()
            raise DbError(f"cannot connect within {timeout:g} s") from None
        except psycopg.Error as err:
            self._pool.close()
            raise _error(err) from None

    @staticmethod
    def _runner(conn: psycopg.Connection[tuple[object, ...]]) -> Session:
        def run(query: str, params: Sequence[object]) -> Cursor:
            text = _PLACEHOLDER.sub("%s", query)
            return conn.execute(text.encode(), tuple(params))

        def run_many(query: str, rows: Sequence[Sequence[object]]) -> None:
            with conn.cursor() as cur:
                cur.executemany(_PLACEHOLDER.sub("%s", query).encode(), [tuple(r) for r in rows])

        return Session(run, run_many)

    @contextmanager
    def session(self) -> Iterator[Session]:
        try:
            with self._pool.connection() as conn:
                yield self._runner(conn)
        except (psycopg.Error, PoolTimeout) as err:
            raise _error(err) from None

    @contextmanager
    def transaction(self, lock: int | None = None) -> Iterator[Session]:
        try:
            with self._pool.connection() as conn, conn.transaction():
                if lock is not None:
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
                yield self._runner(conn)
        except (psycopg.Error, PoolTimeout) as err:
            raise _error(err) from None

    def close(self) -> None:
        self._pool.close()


def security_database(store: PostgresStore) -> PostgresDatabase:
    """A Database (a small pool of its own) on the same PostgreSQL store."""
    return PostgresDatabase(store.conninfo, where=store.url)
