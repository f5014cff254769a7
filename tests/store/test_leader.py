"""Leader election on a real PostgreSQL server: one leader, takeover after kill -9, fencing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from console.model.replicas import Replicas
from console.store.leader import FencedError, LeaderElection, Seat
from console.store.postgres import PostgresStore, conninfo
from tests.pgserver import PostgresServer
from tests.store.test_store import workload

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def url(pg_server: PostgresServer) -> str:
    url = pg_server.url(pg_server.create_database())
    PostgresStore(url, password=pg_server.password).close()  # migrated
    return conninfo(url, pg_server.password)


async def wait_for(check: object, timeout: float = 30.0) -> float:
    """Seconds until `check()` holds; fails after `timeout`."""
    assert callable(check)
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            pytest.fail(f"not within {timeout} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


async def test_one_leader_and_handover(url: str) -> None:
    changes: list[tuple[str, Seat]] = []
    a = LeaderElection(url, "a", retry=0.1, on_change=lambda s: changes.append(("a", s)))
    b = LeaderElection(url, "b", retry=0.1, on_change=lambda s: changes.append(("b", s)))
    stop_a, stop_b = asyncio.Event(), asyncio.Event()
    task_a = asyncio.create_task(a.run(stop_a), name="election-a")
    await wait_for(lambda: a.leading)
    task_b = asyncio.create_task(b.run(stop_b), name="election-b")
    await asyncio.sleep(0.5)  # several of b's tries
    assert (a.leading, b.leading) == (True, False)
    assert a.seat.term == 1
    stop_a.set()
    await task_a
    assert not a.leading
    await wait_for(lambda: b.leading)
    assert b.seat.term == 2
    stop_b.set()
    await task_b
    assert [(who, s.leading, s.term) for who, s in changes] == [
        ("a", True, 1),
        ("a", False, 1),
        ("b", True, 2),
        ("b", False, 2),
    ]


async def test_lost_session_steps_down(url: str) -> None:
    """The leader's session is cut (as when PostgreSQL restarts): it notices, steps down, and
    wins again in a new term once it reconnects."""
    a = LeaderElection(url, "a", retry=0.1)
    stop = asyncio.Event()
    task = asyncio.create_task(a.run(stop), name="election-a")
    await wait_for(lambda: a.leading)
    seen: list[bool] = []
    a.on_change = lambda s: seen.append(s.leading)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        )
    await wait_for(lambda: seen[-2:] == [False, True])
    assert a.seat.term == 2
    stop.set()
    await task


def test_fenced_placement_write(pg_server: PostgresServer, url: str) -> None:
    store = PostgresStore(url)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("UPDATE hub_leader SET term = 7, holder = 'b' WHERE id = 1")
        store.save_workload(workload("w", **{"gov-a": 1}))
        store.fence_term = 6
        with pytest.raises(FencedError, match="term 6 is over: b leads in term 7"):
            store.save_placements([replace(workload("w"), placed=Replicas({"gov-b": 9}))])
        assert store.load_workloads()[0].placed == {"gov-a": 1}
        store.fence_term = 7
        store.save_placements([replace(workload("w"), placed=Replicas({"gov-b": 9}))])
        assert store.load_workloads()[0].placed == {"gov-b": 9}
    finally:
        store.close()


CONTENDER = """
import asyncio, sys
from console.store.leader import LeaderElection

async def main() -> None:
    say = lambda s: print("leading" if s.leading else "not", flush=True)
    election = LeaderElection(sys.argv[1], "victim", retry=0.1, on_change=say)
    await election.run(asyncio.Event())

asyncio.run(main())
"""


@pytest.mark.slow
async def test_takeover_after_kill_9(url: str) -> None:
    """A leader in another process is killed with SIGKILL: PostgreSQL ends its session, and the
    waiting replica leads in the next term. The takeover times are printed."""
    times: list[float] = []
    for round_ in range(3):
        victim = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CONTENDER,
            url,
            stdout=subprocess.PIPE,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            assert victim.stdout is not None
            assert (await victim.stdout.readline()).strip() == b"leading"
            times.append(await _survive(url, victim, term=2 * round_ + 2))
        finally:
            if victim.returncode is None:
                victim.kill()
            await victim.wait()
    print(f"\nleader takeover after kill -9 (retry 0.1 s): {', '.join(f'{t:.2f}s' for t in times)}")


async def _survive(url: str, victim: asyncio.subprocess.Process, term: int) -> float:
    waiting = LeaderElection(url, "survivor", retry=0.1)
    stop = asyncio.Event()
    task = asyncio.create_task(waiting.run(stop), name="election-survivor")
    await asyncio.sleep(0.3)
    assert not waiting.leading
    victim.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    await wait_for(lambda: waiting.leading)
    took = time.monotonic() - killed
    assert waiting.seat.term == term
    stop.set()
    await task
    return took
