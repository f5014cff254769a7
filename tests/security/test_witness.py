"""The audit log survives its own database: a wipe, a truncation and a rollback to an older
consistent copy are found by default, against the witness kept beside the audit key."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from console.security.flood import RefusalAggregator, peer_host
from console.store.audit import AuditEntry, AuditLog, default_key_path
from console.store.audit_writer import AuditWriter, open_log
from console.store.sqlite import SqliteStore
from console.store.witness import default_witness_path


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "hub.db"
    SqliteStore(path).close()
    return path


def entry(i: int) -> AuditEntry:
    return AuditEntry(f"user:u{i}", "workload.submit", f"workload/w{i}", "ok")


def filled(store: Path, n: int) -> AuditLog:
    log = open_log(store, create=True)
    for i in range(n):
        log.append(entry(i))
    return log


def backup(store: Path, copy: Path) -> None:
    with closing(sqlite3.connect(copy)) as dst, closing(sqlite3.connect(store)) as src:
        src.backup(dst)


def restore(copy: Path, store: Path) -> None:
    for suffix in ("-wal", "-shm"):
        store.with_name(store.name + suffix).unlink(missing_ok=True)
    shutil.copy(copy, store)


def verify(store: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tongchou", "audit", "verify", "--store", str(store)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_witness_lives_beside_the_key(store: Path) -> None:
    filled(store, 3).close()
    witness = default_witness_path(default_key_path(store))
    assert witness.is_file() and witness.stat().st_mode & 0o777 == 0o600
    assert witness.read_text().splitlines()[-1].split()[0] == "3"
    done = verify(store)
    assert done.returncode == 0, done.stderr
    assert "3 records, head 3" in done.stdout


def test_a_wiped_log_is_found(store: Path) -> None:
    filled(store, 5).close()
    with sqlite3.connect(store) as db:
        db.execute("DELETE FROM audit")
        db.execute("DELETE FROM audit_head")
    done = verify(store)
    assert done.returncode == 1
    assert "witness saw record 5" in done.stderr and "wiped" in done.stderr


def test_a_rollback_to_an_older_consistent_copy_is_found(store: Path, tmp_path: Path) -> None:
    log = filled(store, 3)
    copy = tmp_path / "copy.db"
    backup(store, copy)
    for i in range(3, 8):
        log.append(entry(i))
    log.close()
    restore(copy, store)
    assert open_log(store).verify_chain().ok, "the copy is consistent in itself"
    done = verify(store)
    assert done.returncode == 1
    assert "ends at record 3, but its witness saw record 8" in done.stderr


def test_a_truncation_with_an_old_head_is_found(store: Path) -> None:
    log = filled(store, 3)
    with sqlite3.connect(store) as db:
        head = db.execute("SELECT seq, hash, mac FROM audit_head").fetchone()
    for i in range(3, 6):
        log.append(entry(i))
    with sqlite3.connect(store) as db:
        db.execute("DELETE FROM audit WHERE seq > 3")
        db.execute("UPDATE audit_head SET seq = ?, hash = ?, mac = ?", head)
    verdict = log.verify()
    assert not verdict.ok and verdict.bad_seq == 4
    assert "3 records were removed or rolled back" in verdict.problem


def test_a_rewritten_log_of_the_same_length_is_found(store: Path, tmp_path: Path) -> None:
    """An insider with the key file's neighbour but not the key cannot re-chain; with an
    older copy plus as many new appends, the witnessed record differs."""
    log = filled(store, 2)
    copy = tmp_path / "copy.db"
    backup(store, copy)
    log.append(entry(2))
    log.close()
    witness = default_witness_path(default_key_path(store))
    saved = witness.read_bytes()
    restore(copy, store)
    other = open_log(store)
    other.append(AuditEntry("user:mallory", "workload.delete", "workload/w0", "ok"))
    witness.write_bytes(saved)  # the insider cannot remove what the witness saw
    verdict = other.verify()
    assert not verdict.ok and "not the one the witness saw" in verdict.problem


def test_a_missing_or_forged_witness_is_found_and_a_reset_is_audited(store: Path) -> None:
    filled(store, 2).close()
    witness = default_witness_path(default_key_path(store))
    lines = witness.read_text().splitlines()
    _seq, hash_, mac = lines[-1].split()
    witness.write_text(f"1 {hash_} {mac}\n")
    done = verify(store)
    assert done.returncode == 1 and "forged" in done.stderr
    witness.unlink()
    done = verify(store)
    assert done.returncode == 1 and "witness" in done.stderr and "missing" in done.stderr
    reset = subprocess.run(
        [sys.executable, "-m", "tongchou", "audit", "witness-reset", "--store", str(store)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert reset.returncode == 0, reset.stderr
    assert verify(store).returncode == 0
    log = open_log(store)
    assert [r.action for r in log.records()][-1] == "audit.witness-reset"


def test_the_writer_appends_off_the_caller_and_witnesses_on_flush(store: Path) -> None:
    log = open_log(store, create=True)
    writer = AuditWriter(log)
    for i in range(1200):
        writer.submit(entry(i))
    writer.flush()
    assert log.head()[0] == 1200
    assert log.witness is not None and log.witness.last() == log.head()
    assert log.verify().ok
    writer.close()


def test_refusals_of_one_peer_cost_two_records_a_minute() -> None:
    now = [120.0]
    out: list[AuditEntry] = []
    agg = RefusalAggregator(out.append, clock=lambda: now[0], max_peers=2)
    bad = AuditEntry("anonymous", "call", "/m", "unauthenticated", peer="ipv4:10.0.0.7:5123")
    for port in range(1000):
        agg(
            AuditEntry(bad.actor, bad.action, bad.object, bad.outcome, peer=f"ipv4:10.0.0.7:{port}")
        )
    assert len(out) == 1 and "peer 10.0.0.7" in out[0].detail
    agg(AuditEntry("user:a", "workload.submit", "workload/w", "ok"))  # not aggregated
    assert len(out) == 2
    now[0] = 185.0
    agg.flush()
    assert len(out) == 3 and "999 more like this from 10.0.0.7" in out[2].detail
    for host in ("10.0.0.8", "10.0.0.9", "10.0.0.10"):  # beyond max_peers: shared
        agg(AuditEntry("anonymous", "call", "/m", "unauthenticated", peer=f"ipv4:{host}:1"))
    assert "other peers" in out[-1].detail
    assert peer_host("ipv6:[::1]:443") == "::1"


def test_store_files_are_private(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    old.touch(mode=0o644)
    old.chmod(0o644)
    for path in (tmp_path / "new.db", old):
        store = SqliteStore(path)
        log = open_log(path, create=True)
        log.append(entry(1))
        for suffix in ("", "-wal", "-shm"):
            companion = path.with_name(path.name + suffix)
            if companion.exists():
                assert companion.stat().st_mode & 0o777 == 0o600, companion
        log.close()
        store.close()
