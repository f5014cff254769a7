"""What only the PostgreSQL store has: migrations, its URL and password, NOTIFY of new events."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import cast

import psycopg
import pytest

from console.model.inventory import Event
from console.store import SqliteStore, StoreError, open_store
from console.store.migrations import MIGRATIONS
from console.store.postgres import CHANGES_CHANNEL, PostgresStore, redact
from tests.pgserver import PostgresServer
from tests.store.test_store import node, workload


@pytest.fixture
def url(pg_server: PostgresServer) -> str:
    return pg_server.url(pg_server.create_database())


def applied(pg_server: PostgresServer, url: str) -> list[int]:
    with psycopg.connect(url, password=pg_server.password) as conn:
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    return [int(r[0]) for r in rows]


def test_migrations_run_once(pg_server: PostgresServer, url: str) -> None:
    PostgresStore(url, password=pg_server.password).close()
    assert applied(pg_server, url) == [m.version for m in MIGRATIONS]
    again = PostgresStore(url, password=pg_server.password)
    again.close()
    assert applied(pg_server, url) == [m.version for m in MIGRATIONS]


def test_replicas_starting_together_migrate_once(pg_server: PostgresServer, url: str) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            PostgresStore(url, password=pg_server.password).close()
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert applied(pg_server, url) == [m.version for m in MIGRATIONS]


def test_newer_schema_is_refused(pg_server: PostgresServer, url: str) -> None:
    PostgresStore(url, password=pg_server.password).close()
    with psycopg.connect(url, password=pg_server.password) as conn:
        conn.execute("INSERT INTO schema_migrations (version, description) VALUES (99, 'x')")
    latest = MIGRATIONS[-1].version
    with pytest.raises(StoreError, match=f"store schema 99 is newer than this hub's {latest}"):
        PostgresStore(url, password=pg_server.password)


def test_wrong_password_names_the_store_not_the_password(
    pg_server: PostgresServer, url: str
) -> None:
    with pytest.raises(StoreError) as info:
        PostgresStore(url, password="not-the-password", timeout=3)
    message = str(info.value)
    assert "cannot connect to the PostgreSQL store" in message
    assert "password authentication failed" in message
    assert "not-the-password" not in message


def test_password_in_the_url_is_never_shown(pg_server: PostgresServer, url: str) -> None:
    secret_url = pg_server.url(with_password=True)
    assert pg_server.password not in redact(secret_url)
    store = PostgresStore(secret_url)
    try:
        assert pg_server.password not in store.url
    finally:
        store.close()


def test_password_from_a_file(pg_server: PostgresServer, url: str) -> None:
    store = open_store(url, password_file=pg_server.password_file, environ={})
    try:
        assert isinstance(store, PostgresStore)
        assert store.load_nodes() == []
    finally:
        store.close()


def test_password_from_the_environment(pg_server: PostgresServer, url: str) -> None:
    store = open_store(url, environ={"TONGCHOU_STORE_PASSWORD": pg_server.password})
    store.close()
    by_file = {"TONGCHOU_STORE_PASSWORD_FILE": str(pg_server.password_file)}
    open_store(url, environ=by_file).close()


def test_password_file_errors(url: str, tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(StoreError, match=f"{missing}: cannot read the store password"):
        open_store(url, password_file=missing, environ={})
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(StoreError, match=f"{empty}: the store password file is empty"):
        open_store(url, password_file=empty, environ={})
    with pytest.raises(StoreError, match="only for a postgresql:// store"):
        open_store(tmp_path / "hub.db", password_file=empty, environ={})


def test_a_path_opens_sqlite(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "hub.db"), environ={})
    assert isinstance(store, SqliteStore)
    store.close()


def test_unreachable_server(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"cannot connect to the PostgreSQL store: .*No such file"):
        PostgresStore(f"postgresql://x@/db?host={tmp_path}", password="p", timeout=2)


def test_not_a_url() -> None:
    with pytest.raises(StoreError, match="not a PostgreSQL URL"):
        PostgresStore("postgresql://[broken", password="p")


def test_changes_are_notified_on_commit(pg_server: PostgresServer, url: str) -> None:
    store = PostgresStore(url, password=pg_server.password)
    try:
        with psycopg.connect(url, password=pg_server.password, autocommit=True) as listener:
            listener.execute(f"LISTEN {CHANGES_CHANNEL}")
            store.write_batch([node("a")], [Event(1.0, "ready", "a", "m")])
            store.write_batch([], [Event(2.0, "lost", "b", "m")])
            store.save_workload(workload("w"))
            store.save_placements([workload("w")])
            store.delete_workload("w")
            store.delete_workload("w")  # nothing gone, nothing said
            bad = replace(node("bad"), identity=cast(bytes, object()))
            with pytest.raises(psycopg.Error):
                store.write_batch([bad], [])
            notes = list(listener.notifies(timeout=3))
        assert [(n.channel, n.payload) for n in notes] == [
            (CHANGES_CHANNEL, "nodes,events"),
            (CHANGES_CHANNEL, "events"),
            (CHANGES_CHANNEL, "workloads"),
            (CHANGES_CHANNEL, "workloads"),
            (CHANGES_CHANNEL, "workloads"),
        ]
    finally:
        store.close()


def test_replicas_read_what_the_others_wrote(pg_server: PostgresServer, url: str) -> None:
    a = PostgresStore(url, password=pg_server.password, origin="hub-a")
    b = PostgresStore(url, password=pg_server.password, origin="hub-b")
    try:
        start = b.last_event_id()
        nodes, rev = b.nodes_after(0)
        assert (nodes, rev) == ([], 0)
        a.write_batch([node("n1"), node("n2")], [Event(1.0, "registered", "n1", "by a")])
        b.write_batch([node("n3")], [Event(2.0, "registered", "n3", "by b")])
        nodes, rev = b.nodes_after(0)
        assert [n.name for n in nodes] == ["n1", "n2", "n3"]
        a.write_batch([replace(node("n2"), state="stale")], [])
        nodes, rev2 = b.nodes_after(rev)
        assert [(n.name, n.state) for n in nodes] == [("n2", "stale")]
        assert b.nodes_after(rev2) == ([], rev2)
        events, last = b.events_after(start)
        assert [e.message for e in events] == ["by a"]  # its own are not news to b
        theirs, _ = a.events_after(start)
        assert [e.message for e in theirs] == ["by b"]
        assert b.events_after(last) == ([], last)
    finally:
        a.close()
        b.close()
