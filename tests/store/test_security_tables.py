"""The audit chain, credentials, certificate lineages and executor state on both stores: a
SQLite file and a real PostgreSQL server; several writers at once keep one chain."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from console.model.replicas import Replicas
from console.store.audit import AuditEntry, AuditLog
from console.store.audit_writer import open_log
from console.store.credentials import CredentialError, Credentials, NodePlace, User
from console.store.executor_state import ClusterFailover, ExecutorState
from console.store.postgres_db import PostgresDatabase
from console.store.sql import Database
from console.store.sqlite import SqliteStore
from tests.pgserver import PostgresServer


@dataclass
class Tables:
    """Where the security tables live: `open()` gives what a class is constructed on (a new
    connection or pool each time, as each replica or command has its own)."""

    kind: str
    open: Callable[[], Path | Database]
    sql: Callable[[str], list[tuple[object, ...]]]
    store: str  # the --store value of a command
    env: dict[str, str]


@pytest.fixture(params=["sqlite", "postgresql"])
def tables(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Tables]:
    if request.param == "sqlite":
        path = tmp_path / "hub.db"
        SqliteStore(path).close()

        def sqlite_sql(query: str) -> list[tuple[object, ...]]:
            with closing(sqlite3.connect(path)) as db, db:
                return list(db.execute(query))

        yield Tables("sqlite", lambda: path, sqlite_sql, str(path), {})
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    url = server.url(server.create_database())
    opened: list[Database] = []

    def open_db() -> Database:
        db = PostgresDatabase(url, password=server.password)
        opened.append(db)
        return db

    def postgres_sql(query: str) -> list[tuple[object, ...]]:
        with psycopg.connect(url, password=server.password) as conn:
            cur = conn.execute(query.encode())
            return list(cur.fetchall()) if cur.description else []

    env = {"TONGCHOU_STORE_PASSWORD": server.password}
    yield Tables("postgresql", open_db, postgres_sql, url, env)
    for db in opened:
        db.close()


def entry(i: int, actor: str = "user:u") -> AuditEntry:
    return AuditEntry(f"{actor}{i}", "workload.submit", f"workload/w{i}", "ok", role="operator")


@pytest.fixture
def key(tmp_path: Path) -> Path:
    return tmp_path / "audit.key"


def audit_log(tables: Tables, key: Path, witness: Path | None = None) -> AuditLog:
    return open_log(tables.open(), key, witness=witness, create=True)


def test_a_chain_verifies_and_finds_an_edit_a_deletion_and_an_insertion(
    tables: Tables, key: Path
) -> None:
    log = audit_log(tables, key)
    log.append_many([entry(i) for i in range(1, 6)])
    verdict = log.verify()
    assert verdict.ok and verdict.records == 5, verdict
    assert [r.seq for r in log.records()] == [1, 2, 3, 4, 5]
    tables.sql("UPDATE audit SET outcome = 'denied' WHERE seq = 2")
    verdict = log.verify()
    assert not verdict.ok and verdict.bad_seq == 2 and "modified" in verdict.problem
    tables.sql("UPDATE audit SET outcome = 'ok' WHERE seq = 2")
    assert log.verify().ok
    tables.sql("DELETE FROM audit WHERE seq = 3")
    verdict = log.verify()
    assert not verdict.ok and verdict.bad_seq == 3 and "missing" in verdict.problem
    tables.sql(
        "INSERT INTO audit SELECT 3, at, actor, role, scope, action, object, outcome, digest,"
        " detail, prev, hash FROM audit WHERE seq = 2"
    )
    verdict = log.verify()
    assert not verdict.ok and verdict.bad_seq == 3


def test_pruning_keeps_the_chain_verifiable(tables: Tables, key: Path) -> None:
    log = audit_log(tables, key)
    old = dt.datetime(2020, 1, 1, tzinfo=dt.UTC).isoformat(timespec="microseconds")
    log.append_many([entry(i) for i in range(1, 4)], at=old)
    log.append_many([entry(i) for i in range(4, 6)])
    assert log.prune(months=6) == 3
    assert log.anchor()[0] == 3
    verdict = log.verify()
    assert verdict.ok and verdict.records == 3, verdict  # 4, 5 and the pruning itself
    tables.sql("DELETE FROM audit WHERE seq = 4")
    assert not log.verify().ok


def test_writers_on_their_own_connections_append_one_chain(tables: Tables, key: Path) -> None:
    """Two writers (two hub replicas, or a hub and `tongchou user`) with four threads each:
    every append lands, the sequence has no gap or fork, and the chain verifies."""
    logs = [audit_log(tables, key), audit_log(tables, key)]
    errors: list[BaseException] = []

    def append(log: AuditLog, who: str) -> None:
        try:
            for i in range(25):
                log.append(entry(i, f"user:{who}-"))
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=append, args=(logs[n % 2], f"t{n}")) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[0]
    records = list(logs[0].records())
    assert [r.seq for r in records] == list(range(1, 201))
    assert all(b.prev == a.hash for a, b in itertools.pairwise(records))
    for log in logs:
        verdict = log.verify()
        assert verdict.ok and verdict.records == 200, verdict


def test_a_chain_verifies_while_another_writer_appends(tables: Tables, key: Path) -> None:
    """Records another replica appends during the walk are not taken for missing ones."""
    reader, writer = audit_log(tables, key), audit_log(tables, key)
    writer.append_many([entry(i) for i in range(300)])
    stop = threading.Event()

    def keep_appending() -> None:
        i = 0
        while not stop.is_set():
            writer.append(entry(i, "user:w-"))
            i += 1

    thread = threading.Thread(target=keep_appending)
    thread.start()
    try:
        verdicts = [reader.verify_chain() for _ in range(15)]
    finally:
        stop.set()
        thread.join(60)
    assert all(v.ok for v in verdicts), [v.problem for v in verdicts if not v.ok]


def test_a_replica_without_a_witness_joins_a_shared_chain(
    tables: Tables, key: Path, tmp_path: Path
) -> None:
    first = audit_log(tables, key, tmp_path / "a.witness")
    first.append_many([entry(i) for i in range(1, 4)])
    if tables.kind == "sqlite":
        return  # one hub per file: its witness is made with the store (tests/security)
    second = audit_log(tables, key, tmp_path / "b.witness")
    records = list(second.records())
    assert records[-1].action == "audit.witness-start"
    assert "after record 3" in records[-1].detail
    assert first.verify().ok and second.verify().ok
    tables.sql("DELETE FROM audit WHERE seq >= 3")  # a rollback: both witnesses see it
    tables.sql("UPDATE audit_head SET seq = 2, hash = (SELECT hash FROM audit WHERE seq = 2)")
    assert not second.verify().ok


def test_the_audit_command_verifies_the_store(tables: Tables, key: Path) -> None:
    log = audit_log(tables, key)
    log.append_many([entry(i) for i in range(1, 4)])
    env = {**os.environ, **tables.env}
    argv = [sys.executable, "-m", "tongchou", "audit", "verify", "--store", tables.store]

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*argv, *extra], capture_output=True, text=True, env=env, check=False, timeout=60
        )

    done = run("--key", str(key))
    assert done.returncode == 0 and "audit log OK: 3 records" in done.stdout, done.stderr
    tables.sql("UPDATE audit SET actor = 'someone-else' WHERE seq = 2")
    done = run("--key", str(key))
    assert done.returncode == 1 and "record 2" in done.stderr
    if tables.kind == "postgresql":  # no file to find the key beside
        done = run()
        assert done.returncode == 2 and "--audit-key" in done.stderr


def test_a_join_token_is_used_once_by_two_replicas(tables: Tables) -> None:
    replicas = [Credentials(tables.open()), Credentials(tables.open())]
    token = replicas[0].create_token("gz-node-1", 600)
    with pytest.raises(CredentialError, match="for node gz-node-1"):
        replicas[1].consume_token(token, node="other")
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def take(c: Credentials) -> None:
        barrier.wait()
        try:
            outcomes.append(c.consume_token(token, node="gz-node-1"))
        except CredentialError as err:
            outcomes.append(str(err))

    threads = [threading.Thread(target=take, args=(c,)) for c in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["gz-node-1", "the join token was already used"]
    with pytest.raises(CredentialError, match="malformed"):
        replicas[0].consume_token("nonsense")


def test_a_join_tokens_place_becomes_its_nodes(tables: Tables) -> None:
    """Another replica (or the hub after a restart) reads the place the join recorded."""
    one, two = Credentials(tables.open()), Credentials(tables.open())
    place = NodePlace("440106", "gz-tianhe-dc", "gz-gov")
    one.consume_token(one.create_token("edge-1", 600, place=place), node="edge-1")
    one.consume_token(one.create_token("edge-2", 600), node="edge-2")
    assert two.node_places() == {"edge-1": place}
    assert (two.node_place("edge-1"), two.node_place("edge-2")) == (place, None)
    two.consume_token(two.create_token("edge-1", 600), node="edge-1")  # re-joined, no place
    assert one.node_places() == {}


def test_users_enrolment_and_approvals(tables: Tables) -> None:
    one, two = Credentials(tables.open()), Credentials(tables.open())
    token = one.add_user(User("ops", ("operator",), "440000"))
    assert two.user_by_token(token) == one.user("ops")
    with pytest.raises(CredentialError, match="already exists"):
        two.add_user(User("ops", (), ""))
    account = one.add_account("li", "440100")
    code = one.issue_enrolment_code("li", 600)
    user, bearer = two.enrol("li", code)
    assert user.id == account.id and two.user_by_token(bearer) == user
    with pytest.raises(CredentialError, match="not valid"):
        one.enrol("li", code)
    assert two.set_roles("li", ("viewer", "planner"))
    assert one.user("li") == User("li", ("viewer", "planner"), "440100", account.id)
    change = one.propose("delete", "ops", (), "admin-a")
    assert two.pending() == [change]
    assert two.take_pending(change.id) == change and one.take_pending(change.id) is None
    assert [u.name for u in two.users()] == ["li", "ops"]
    assert one.delete_user("li") and not two.delete_user("li")


def test_certificate_lineages_and_revocation(tables: Tables) -> None:
    one, two = Credentials(tables.open()), Credentials(tables.open())
    first = one.record_certificate(0x10, "node", "gz-1", 1.0, 2.0, issued_by="ca")
    renewed = two.record_certificate(0x11, "node", "gz-1", 2.0, 3.0, parent=0x10)
    assert renewed.lineage == first.lineage == "10"
    assert [c.serial for c in one.lineage("10")] == ["10", "11"]
    assert one.last_renewal("10") == renewed.issued_at
    assert [c.serial for c in two.certificates("node", "gz-1")] == ["10", "11"]
    assert two.certificate(0x11) == renewed
    assert not one.is_revoked(0x11)
    assert two.revoke(0x11, "gz-1", "stolen") and not one.revoke(0x10, "gz-1", "again")
    assert one.is_revoked(0x10) and one.is_revoked(0x11)
    assert two.revoke_name("node", "sz-2", "gone", now=100.0) == []
    assert one.is_revoked(0x99, "node", "sz-2", not_before=50.0)
    assert not one.is_revoked(0x98, "node", "sz-2", not_before=150.0)


def test_executor_state_is_shared(tables: Tables) -> None:
    """The identity, failover and move-back state a leader wrote are what the next reads."""
    leader, successor = ExecutorState(tables.open()), ExecutorState(tables.open())
    assert leader.identity() == successor.identity()
    leader.save([ClusterFailover("sz-b", False, "agents lost", 5.0, frozenset({"seal"}))])
    leader.save_moves(["portal"], {"seal": Replicas({"gz-a": 3})})
    assert successor.load_all() == (
        [ClusterFailover("sz-b", False, "agents lost", 5.0, frozenset({"seal"}))],
        (["portal"], {"seal": Replicas({"gz-a": 3})}),
    )
    successor.save([ClusterFailover("sz-b", True, "", 9.0)])
    successor.save_moves([], {})
    assert leader.load_all() == ([], ([], {}))


def test_a_deposed_leader_writes_no_failover_state(tables: Tables) -> None:
    if tables.kind == "sqlite":
        return  # one hub per file: it always leads
    from console.store.leader import FencedError

    state = ExecutorState(tables.open())
    term: list[int | None] = [1]
    state.fence = lambda: term[0]
    tables.sql("UPDATE hub_leader SET term = 1, holder = 'hub-a'")
    out = ClusterFailover("sz-b", False, "agents lost", 5.0)
    state.save([out])
    tables.sql("UPDATE hub_leader SET term = 2, holder = 'hub-b'")  # another replica leads
    with pytest.raises(FencedError, match="hub-b leads in term 2"):
        state.save([ClusterFailover("sz-b", True, "", 9.0)])
    with pytest.raises(FencedError):
        state.save_moves(["portal"], {})
    term[0] = None  # it stepped down
    with pytest.raises(FencedError):
        state.save([])
    assert state.load_all() == ([out], ([], {}))
