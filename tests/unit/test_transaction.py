"""The store's transaction helper: all of a block's writes land, or none, even when COMMIT fails."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from console.store.transaction import transaction


def connect(tmp_path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    db.execute(
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER"
        " REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
    )
    return db


def rows(db: sqlite3.Connection) -> list[tuple[int, int]]:
    return db.execute("SELECT id, parent FROM child ORDER BY id").fetchall()


def test_a_block_commits_all_its_writes(tmp_path: Path) -> None:
    db = connect(tmp_path)
    with transaction(db):
        db.execute("INSERT INTO parent VALUES (1)")
        db.execute("INSERT INTO child VALUES (1, 1)")
        db.execute("INSERT INTO child VALUES (2, 1)")
    assert rows(db) == [(1, 1), (2, 1)]
    assert not db.in_transaction


def test_an_error_rolls_every_write_back(tmp_path: Path) -> None:
    db = connect(tmp_path)
    with pytest.raises(KeyError), transaction(db):
        db.execute("INSERT INTO parent VALUES (1)")
        db.execute("INSERT INTO child VALUES (1, 1)")
        raise KeyError("x")
    assert rows(db) == []
    assert not db.in_transaction


def test_a_return_inside_the_block_commits(tmp_path: Path) -> None:
    db = connect(tmp_path)

    def write() -> int:
        with transaction(db):
            db.execute("INSERT INTO parent VALUES (1)")
            return 1

    assert write() == 1
    assert db.execute("SELECT id FROM parent").fetchall() == [(1,)]


def test_a_commit_that_fails_rolls_back_and_leaves_no_transaction_open(tmp_path: Path) -> None:
    db = connect(tmp_path)
    with pytest.raises(sqlite3.IntegrityError), transaction(db):
        db.execute("INSERT INTO child VALUES (1, 99)")  # no parent 99: checked at COMMIT
    assert not db.in_transaction
    assert rows(db) == []
