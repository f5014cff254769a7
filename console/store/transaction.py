"""The store's one way to write: a SQLite transaction that takes the write lock at once
(BEGIN IMMEDIATE) and commits all of its statements, or rolls all of them back."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """`with transaction(db):` on a connection in autocommit mode (isolation_level=None): the
    block's statements commit together when it ends (a `return` too), or roll back together
    when it raises."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
        db.execute("COMMIT")  # a commit that fails (the database busy) rolls back too
    except BaseException:
        if db.in_transaction:  # SQLite rolls back by itself on a full disk: keep that error
            db.execute("ROLLBACK")
        raise
