"""One small SQL interface for the store's security and executor tables, over a SQLite file or
a PostgreSQL pool (`postgres_db.py`): sessions, transactions, and the drivers' errors as one."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

from console.store.files import make_private
from console.store.transaction import transaction

Row = tuple[Any, ...]


class DbError(RuntimeError):
    """The database refused or failed a statement; the message is the driver's."""


class DbIntegrityError(DbError):
    """A statement broke a key or constraint (a duplicate name, say)."""


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> Any: ...


class Session:
    """Statements on one connection; `?` placeholders in every dialect."""

    def __init__(
        self,
        run: Callable[[str, Sequence[object]], Cursor],
        run_many: Callable[[str, Sequence[Sequence[object]]], None],
    ) -> None:
        self._run = run
        self._run_many = run_many

    def execute(self, query: str, params: Sequence[object] = ()) -> Cursor:
        return self._run(query, params)

    def many(self, query: str, rows: Sequence[Sequence[object]]) -> None:
        """One statement for every row (batched by the driver)."""
        if rows:
            self._run_many(query, rows)

    def one(self, query: str, params: Sequence[object] = ()) -> Row | None:
        row = self._run(query, params).fetchone()
        return tuple(row) if row is not None else None

    def all(self, query: str, params: Sequence[object] = ()) -> list[Row]:
        return [tuple(r) for r in self._run(query, params).fetchall()]


class Database(Protocol):
    """Where the tables live. `session()` runs statements (each on its own in SQLite, as one
    transaction in PostgreSQL); `transaction(lock)` runs them as one transaction, serialised
    with every other holder of the same `lock` number (SQLite serialises all writers)."""

    dialect: str
    where: str  # for messages: the file, or the URL without its password

    def session(self) -> AbstractContextManager[Session]: ...

    def transaction(self, lock: int | None = None) -> AbstractContextManager[Session]: ...

    def close(self) -> None: ...


def _sqlite_error(err: sqlite3.Error) -> DbError:
    if isinstance(err, sqlite3.IntegrityError):
        return DbIntegrityError(str(err))
    return DbError(str(err))


class SqliteDatabase:
    """One connection to a store file (made private), guarded by a lock; `schema` is applied
    on opening (CREATE TABLE IF NOT EXISTS ...)."""

    dialect = "sqlite"

    def __init__(self, path: Path, schema: str, *, busy_timeout_ms: int = 10000) -> None:
        self.path = path
        self.where = str(path)
        self._lock = threading.Lock()
        try:
            make_private(path)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            self._db.executescript(schema)
        except sqlite3.Error as err:
            raise DbError(str(err)) from None

    def _run(self, query: str, params: Sequence[object]) -> Cursor:
        return self._db.execute(query, tuple(params))

    def _run_many(self, query: str, rows: Sequence[Sequence[object]]) -> None:
        self._db.executemany(query, [tuple(r) for r in rows])

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._lock:
            try:
                yield Session(self._run, self._run_many)
            except sqlite3.Error as err:
                raise _sqlite_error(err) from None

    @contextmanager
    def transaction(self, lock: int | None = None) -> Iterator[Session]:
        with self._lock:
            try:
                with transaction(self._db):
                    yield Session(self._run, self._run_many)
            except sqlite3.Error as err:
                raise _sqlite_error(err) from None

    def close(self) -> None:
        with self._lock:
            self._db.close()


def database_of(target: Path | Database, schema: str) -> Database:
    """A Database as given, or one on the SQLite file `target` with `schema` applied."""
    if isinstance(target, Path):
        return SqliteDatabase(target, schema)
    return target
