"""The audit log: the chain finds edited, inserted and deleted records; pruning keeps it whole."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from console.store.audit import (
    AuditEntry,
    AuditLog,
    months_before,
)
from console.store.audit_writer import open_log
from console.store.sqlite import SCHEMA_VERSION, SqliteStore


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "hub.db"
    SqliteStore(path).close()
    return path


@pytest.fixture
def log(store: Path) -> AuditLog:
    audit = open_log(store, create=True)
    for i in range(1, 6):
        audit.append(
            AuditEntry(f"user:u{i}", "workload.submit", f"workload/w{i}", "ok", role="operator")
        )
    return audit


def sql(store: Path, *statements: str) -> None:
    with sqlite3.connect(store) as db:
        for statement in statements:
            db.execute(statement)


def test_an_intact_chain_verifies(log: AuditLog) -> None:
    verdict = log.verify()
    assert verdict.ok and verdict.records == 5
    assert [r.seq for r in log.records()] == [1, 2, 3, 4, 5]


def test_an_edited_record_is_named(log: AuditLog, store: Path) -> None:
    sql(store, "UPDATE audit SET outcome = 'denied' WHERE seq = 2")
    verdict = log.verify()
    assert not verdict.ok and verdict.bad_seq == 2
    assert "record 2 was modified" in verdict.problem


def test_a_deleted_record_is_named(log: AuditLog, store: Path) -> None:
    sql(store, "DELETE FROM audit WHERE seq = 3")
    verdict = log.verify()
    assert (verdict.ok, verdict.bad_seq) == (False, 3)
    assert "record 3 is missing" in verdict.problem


def test_deleting_the_newest_record_is_found(log: AuditLog, store: Path) -> None:
    sql(store, "DELETE FROM audit WHERE seq = 5")
    verdict = log.verify()
    assert (verdict.ok, verdict.bad_seq) == (False, 5)


def test_an_inserted_record_is_named(log: AuditLog, store: Path) -> None:
    """A forger renumbers the later records and inserts a well-linked record 3; without the
    audit key its hash cannot be right."""
    rows = list(log.records())
    prev = rows[1].hash
    fields = ["user:mallory", "operator", "", "workload.delete", "workload/w1", "ok", "", ""]
    at = rows[1].at
    forged = hashlib.sha256(
        json.dumps([3, at, *fields, prev], separators=(",", ":")).encode()
    ).hexdigest()
    with sqlite3.connect(store) as db:
        for seq in (5, 4, 3):
            db.execute("UPDATE audit SET seq = seq + 1 WHERE seq = ?", (seq,))
        db.execute(
            "INSERT INTO audit VALUES (3, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (at, *fields, prev, forged),
        )
    verdict = log.verify()
    assert (verdict.ok, verdict.bad_seq) == (False, 3)


def aged_log(store: Path) -> AuditLog:
    """Three records from 400 days ago, then two from now."""
    audit = open_log(store, create=True)
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=400)).isoformat(timespec="microseconds")
    for i in range(3):
        audit.append(AuditEntry("user:old", "plan.run", f"plan/{i}", "ok"), at=old)
    for i in range(2):
        audit.append(AuditEntry("user:new", "plan.run", f"plan/{i}", "ok"))
    return audit


def test_pruning_keeps_the_chain_verifiable(store: Path) -> None:
    log = aged_log(store)
    assert log.prune(months=6) == 3
    verdict = log.verify()
    assert verdict.ok, verdict.problem
    assert log.anchor()[0] == 3
    assert [r.seq for r in log.records()] == [4, 5, 6]
    assert list(log.records())[-1].action == "audit.prune"
    assert log.prune(months=6) == 0
    assert log.verify().ok


def test_deleting_after_pruning_or_moving_the_anchor_is_found(store: Path) -> None:
    log = aged_log(store)
    log.prune(months=6)
    sql(store, "DELETE FROM audit WHERE seq = 4")
    verdict = log.verify()
    assert (verdict.ok, verdict.bad_seq) == (False, 4)
    # the forger also moves the anchor past the deleted record to hide the deletion
    first = next(iter(log.records()))
    sql(store, "UPDATE audit_anchor SET seq = 4")
    with sqlite3.connect(store) as db:
        (h,) = db.execute("SELECT hash FROM audit WHERE seq = 5").fetchone()
        (prev,) = db.execute("SELECT prev FROM audit WHERE seq = 5").fetchone()
        db.execute("UPDATE audit_anchor SET hash = ?", (prev,))
    assert first.seq == 5 and h
    verdict = log.verify()
    assert not verdict.ok and verdict.bad_seq == 4
    assert "deleted outside the log" in verdict.problem


def test_retention_below_six_months_is_refused(log: AuditLog) -> None:
    with pytest.raises(ValueError, match="at least 6 months"):
        log.prune(months=3)


def test_six_calendar_months() -> None:
    when = dt.datetime(2026, 8, 31, 12, tzinfo=dt.UTC)
    assert months_before(when, 6) == dt.datetime(2026, 2, 28, 12, tzinfo=dt.UTC)
    assert months_before(dt.datetime(2026, 3, 15, tzinfo=dt.UTC), 6).date() == dt.date(2025, 9, 15)


def test_store_migrates_from_schema_2(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    SqliteStore(path).close()
    sql(path, "DROP TABLE audit", "DROP TABLE audit_head", "UPDATE meta SET value = '2'")
    SqliteStore(path).close()
    with sqlite3.connect(path) as db:
        (version,) = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert version == str(SCHEMA_VERSION) == "3"
    assert {"audit", "audit_anchor", "audit_head"} <= tables


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tongchou", "audit", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_audit_command_verify_and_export(log: AuditLog, store: Path, tmp_path: Path) -> None:
    done = run("verify", "--store", str(store))
    assert done.returncode == 0 and "5 records" in done.stdout
    out = tmp_path / "audit.jsonl"
    assert run("export", "--store", str(store), "-o", str(out)).returncode == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["seq"] for r in lines] == [1, 2, 3, 4, 5]
    assert {"at", "actor", "role", "scope", "action", "object", "outcome", "digest"} <= set(
        lines[0]
    )
    sql(store, "UPDATE audit SET actor = 'someone-else' WHERE seq = 4")
    done = run("verify", "--store", str(store))
    assert done.returncode == 1
    assert "BROKEN at record 4" in done.stderr
    done = run("verify", "--store", str(tmp_path / "nope.db"))
    assert done.returncode == 2 and "no such store file" in done.stderr
