"""The store suite, run on both stores: durable, atomic batches (SQLite file, PostgreSQL)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import cast

import psycopg
import pytest

from console.model.inventory import Event
from console.model.replicas import Replicas
from console.store.base import InventoryStore, StoredDocument, StoredNode, StoredWorkload
from console.store.sqlite import SCHEMA_VERSION, SqliteStore, StoreError
from tests.store.conftest import Target


def node(name: str, *, first_seen: float = 100.0, last_seen: float = 100.0) -> StoredNode:
    return StoredNode(
        name=name,
        division="440106",
        site="dc1",
        cluster="gov-a",
        state="ready",
        first_seen=first_seen,
        last_seen=last_seen,
        run_id="run-1",
        sequence=3,
        interval=10.0,
        identity=b"\x0a\x02n1",
        capacity=b"\x08\x40",
        usage=b"",
        boot_time=1_700_000_000.5,
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "inventory.db"


@pytest.fixture
def sqlite_store(path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(path)
    yield s
    s.close()


def test_new_sqlite_store_creates_parent(sqlite_store: SqliteStore, path: Path) -> None:
    assert path.exists()


def test_new_store_is_empty(store: InventoryStore) -> None:
    assert store.load_nodes() == []
    assert store.load_documents() == []
    assert store.recent_events(10) == []


def test_rows_survive_reopen(store: InventoryStore, target: Target) -> None:
    rows = [node("b"), node("a")]
    events = [Event(100.0, "registered", "a", "gov-a at dc1 (440106)")]
    store.write_batch(rows, events)
    store.close()
    again = target.open()
    try:
        loaded = again.load_nodes()
        assert loaded == [node("a"), node("b")]
        assert isinstance(loaded[0].identity, bytes)
        assert again.recent_events(10) == events
    finally:
        again.close()


def test_upsert_keeps_first_seen(store: InventoryStore) -> None:
    store.write_batch([node("a", first_seen=100.0, last_seen=100.0)], [])
    newer = replace(
        node("a", first_seen=999.0, last_seen=250.0), state="stale", sequence=9, usage=b"\x01"
    )
    store.write_batch([newer], [])
    (row,) = store.load_nodes()
    assert row.first_seen == 100.0
    assert row.last_seen == 250.0
    assert (row.state, row.sequence, row.usage) == ("stale", 9, b"\x01")


def test_events_in_order(store: InventoryStore) -> None:
    events = [Event(float(i), "stale" if i % 2 else "ready", f"n{i}", f"m{i}") for i in range(5)]
    store.write_batch([], events[:2])
    store.write_batch([], events[2:])
    assert store.recent_events(10) == events
    assert store.recent_events(3) == events[2:]
    assert store.recent_events(0) == []


def test_empty_batch_is_a_no_op(store: InventoryStore) -> None:
    store.write_batch([], [])
    assert store.load_nodes() == []


def test_batch_with_bad_row_writes_nothing(store: InventoryStore, target: Target) -> None:
    store.write_batch([node("old")], [Event(1.0, "registered", "old", "x")])
    bad = replace(node("bad"), identity=cast(bytes, object()))
    with pytest.raises((sqlite3.Error, psycopg.Error)):
        store.write_batch(
            [node("good"), replace(node("old"), sequence=99), bad],
            [Event(2.0, "registered", "good", "y")],
        )
    assert [r.name for r in store.load_nodes()] == ["old"]
    assert store.load_nodes()[0].sequence == 3
    assert [e.node for e in store.recent_events(10)] == ["old"]
    # The store is still usable after the rollback, and a fresh connection agrees.
    store.write_batch([node("next")], [])
    names = [r[0] for r in target.sql("SELECT name FROM nodes ORDER BY name")]
    assert names == ["next", "old"]


def test_prune_keeps_newest(store: InventoryStore) -> None:
    events = [Event(float(i), "ready", f"n{i}", "m") for i in range(10)]
    store.write_batch([], events)
    assert store.prune_events(3) == 7
    assert store.recent_events(100) == events[7:]
    assert store.prune_events(3) == 0
    store.write_batch([], [Event(10.0, "lost", "n10", "m")])
    assert store.prune_events(2) == 2
    assert [e.node for e in store.recent_events(100)] == ["n9", "n10"]


def test_prune_empty_table(store: InventoryStore) -> None:
    assert store.prune_events(5) == 0


def test_not_sqlite_file(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_bytes(b"this is not a database, just some text " * 100)
    with pytest.raises(StoreError, match="cannot open the inventory store") as info:
        SqliteStore(bogus)
    assert str(info.value).startswith(f"{bogus}: ")


def test_wrong_schema_version(path: Path) -> None:
    SqliteStore(path).close()
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(StoreError, match=f"store schema 99 is not the supported {SCHEMA_VERSION}"):
        SqliteStore(path)


def test_wal_mode(sqlite_store: SqliteStore, path: Path) -> None:
    with closing(sqlite3.connect(path)) as db:
        (mode,) = db.execute("PRAGMA journal_mode").fetchone()
    assert mode == "wal"


def test_documents_replaced(store: InventoryStore, target: Target) -> None:
    store.replace_documents(
        [StoredDocument("Site", "dc1", "{}"), StoredDocument("Division", "440106", "{}")]
    )
    store.replace_documents([StoredDocument("Cluster", "gov-a", '{"a": 1}')])
    store.close()
    again = target.open()
    try:
        assert again.load_documents() == [StoredDocument("Cluster", "gov-a", '{"a": 1}')]
    finally:
        again.close()


def workload(name: str, **placed: int) -> StoredWorkload:
    return StoredWorkload(
        name=name,
        document=f"kind: Workload\nmetadata: {{name: {name}}}\n",
        submitted_at=50.0,
        placed=Replicas(placed),
        pending=1,
        reason="short of cpu",
        summary="2 of 3 placed",
        generation=4,
        scheduled_at=60.0,
    )


def test_workloads_with_placements(store: InventoryStore, target: Target) -> None:
    store.save_workload(workload("b", **{"gov-a": 2}))
    store.save_workload(workload("a"))
    store.save_placements(
        [replace(workload("a"), placed=Replicas({"gov-b": 3}), pending=0, generation=5)]
    )
    store.save_placements([])
    store.close()
    again = target.open()
    try:
        a, b = again.load_workloads()
        assert a == replace(workload("a"), placed=Replicas({"gov-b": 3}), pending=0, generation=5)
        assert b == workload("b", **{"gov-a": 2})
        assert again.delete_workload("a") is True
        assert again.delete_workload("a") is False
        assert [w.name for w in again.load_workloads()] == ["b"]
        assert [r[0] for r in target.sql("SELECT workload FROM placements")] == ["b"]
    finally:
        again.close()


def test_workload_without_placement_reads_as_unplaced(store: InventoryStore) -> None:
    store.save_workload(workload("a"))
    store.delete_workload("a")
    store.save_workload(replace(workload("a"), document="new"))
    (row,) = store.load_workloads()
    assert row.document == "new"


def test_many_nodes_in_one_batch(store: InventoryStore) -> None:
    rows = [replace(node(f"n{i:04}"), usage=bytes([i % 256]) * 40) for i in range(1000)]
    store.write_batch(rows, [])
    loaded = store.load_nodes()
    assert len(loaded) == 1000
    assert loaded[999].usage == bytes([999 % 256]) * 40


def test_prune_keeps_newest_after_a_failed_batch(store: InventoryStore) -> None:
    """Identifiers a rolled-back batch used leave gaps; pruning still keeps `keep` events."""
    store.write_batch([], [Event(1.0, "ready", "a", "m")])
    bad = replace(node("bad"), identity=cast(bytes, object()))
    with pytest.raises((sqlite3.Error, psycopg.Error)):
        store.write_batch([bad], [Event(2.0, "ready", "x", "m") for _ in range(5)])
    store.write_batch([], [Event(3.0, "ready", "b", "m"), Event(4.0, "ready", "c", "m")])
    assert store.prune_events(2) == 1
    assert [e.node for e in store.recent_events(10)] == ["b", "c"]
