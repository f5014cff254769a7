"""The audit chain on both stores: appends per second by one writer and by two writers at once
(two hub replicas), each append its own transaction as at a burst of single API calls, and in
batches as the hub's writer thread makes them; then the time to verify the whole chain."""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine
from console.store.audit import AuditEntry, AuditLog
from console.store.audit_writer import open_log
from console.store.postgres_db import PostgresDatabase
from console.store.sql import Database
from console.store.sqlite import SqliteStore
from tests.pgserver import PostgresServer, find_bindir


def entry(i: int) -> AuditEntry:
    return AuditEntry(f"user:u{i % 50}", "workload.submit", f"workload/w{i}", "ok", "operator")


def appends_per_second(logs: list[AuditLog], each: int, batch: int) -> float:
    """Every log appends `each` entries on a thread of its own, `batch` per transaction."""

    def run(log: AuditLog) -> None:
        for start in range(0, each, batch):
            log.append_many([entry(i) for i in range(start, start + batch)], witness=False)

    threads = [threading.Thread(target=run, args=(log,)) for log in logs]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(logs) * each / (time.perf_counter() - started)


def measure(name: str, open_tables: Callable[[], Path | Database], key: Path, each: int) -> None:
    logs = [open_log(open_tables(), key, create=True) for _ in range(2)]
    single = appends_per_second(logs[:1], each, 1)
    double = appends_per_second(logs, each, 1)
    batched = appends_per_second(logs, each * 5, 100)
    started = time.perf_counter()
    verdict = logs[0].verify_chain()
    verify = time.perf_counter() - started
    assert verdict.ok, verdict.problem
    print(
        f"{name:<11} one writer {single:7.0f}/s   two writers {double:7.0f}/s"
        f"   two, batches of 100 {batched:7.0f}/s   verify {verdict.records} records"
        f" {verify:.2f} s"
    )
    for log in logs:
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appends", type=int, default=500, help="appends per writer")
    args = parser.parse_args()
    print(machine())
    print(f"audit appends: {args.appends} single appends per writer, then batches")
    with tempfile.TemporaryDirectory(prefix="tongchou-bench-audit-") as tmp:
        path = Path(tmp) / "hub.db"
        SqliteStore(path).close()
        measure("SQLite", lambda: path, Path(tmp) / "sqlite.key", args.appends)
        bindir = find_bindir()
        if bindir is None:
            print("PostgreSQL     not installed (Debian: apt-get install postgresql)")
            return
        server = PostgresServer(bindir, fsync=True)
        try:
            server.start()
            url = server.url(server.create_database())
            measure(
                "PostgreSQL",
                lambda: PostgresDatabase(url, password=server.password),
                Path(tmp) / "pg.key",
                args.appends,
            )
        finally:
            server.cleanup()


if __name__ == "__main__":
    main()
