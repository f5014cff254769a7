"""Both stores behind one fixture: a SQLite file, and a database on a real PostgreSQL server."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from console.store.base import InventoryStore
from console.store.postgres import PostgresStore
from console.store.sqlite import SqliteStore
from tests.pgserver import PostgresServer, postgres_server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    yield from postgres_server()


@dataclass
class Target:
    """Where a store lives: `open()` gives a new store on it; `sql()` reads it on the side."""

    kind: str
    open: Callable[[], InventoryStore]
    sql: Callable[[str], list[tuple[object, ...]]]


def sqlite_target(path: Path) -> Target:
    def sql(query: str) -> list[tuple[object, ...]]:
        with closing(sqlite3.connect(path)) as db:
            return list(db.execute(query))

    return Target("sqlite", lambda: SqliteStore(path), sql)


def postgres_target(server: PostgresServer) -> Target:
    url = server.url(server.create_database())

    def sql(query: str) -> list[tuple[object, ...]]:
        with psycopg.connect(url, password=server.password) as conn:
            return list(conn.execute(query.encode()).fetchall())

    return Target("postgresql", lambda: PostgresStore(url, password=server.password), sql)


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    if request.param == "sqlite":
        return sqlite_target(tmp_path / "state" / "inventory.db")
    server: PostgresServer = request.getfixturevalue("pg_server")
    return postgres_target(server)


@pytest.fixture
def store(target: Target) -> Iterator[InventoryStore]:
    s = target.open()
    yield s
    s.close()
