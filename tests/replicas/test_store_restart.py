"""PostgreSQL restarted under load: the replicas reconnect, one leads again, nothing
acknowledged is lost, and every node is back on every replica. The figures are printed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT
from tests.pgserver import PostgresServer, find_bindir
from tests.replicas.conftest import Replicas, leader_of
from tests.replicas.test_failover import (
    NODES,
    Submitter,
    fleet_files,
    placed_by_survivor,
    ready_nodes,
    wait_until,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def own_server() -> Iterator[PostgresServer]:
    """A server of this test's own: it is stopped and started again."""
    bindir = find_bindir()
    assert bindir is not None, "PostgreSQL is not installed"
    server = PostgresServer(bindir)
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


async def test_postgresql_restart_under_load(own_server: PostgresServer, tmp_path: Path) -> None:
    launch = Replicas(tmp_path, own_server, own_server.url(own_server.create_database()))
    try:
        files = fleet_files(tmp_path)
        fleet = ("--fleet", str(files[0]), "--policies", str(ROOT / "policies"))
        a = launch.replica("a", *fleet)
        b = launch.replica("b", *fleet)
        await leader_of([a, b])
        both = f"{a.address},{b.address}"
        launch.spawn("simulate", "simulate", *(f"--fleet={f}" for f in files), "--hub", both)

        async def everyone_everywhere() -> bool:
            return all([len(await ready_nodes(h.address)) == NODES for h in (a, b)])

        await wait_until("every node on both replicas", everyone_everywhere)
        submitter = Submitter(both)
        submitting = asyncio.create_task(submitter.run(), name="test-submitter")

        async def some() -> bool:
            return len(submitter.acknowledged) >= 10

        await wait_until("the first acknowledged submissions", some)
        await asyncio.to_thread(own_server.stop)
        down = time.monotonic()
        await asyncio.sleep(2.0)
        await asyncio.to_thread(own_server.start)
        outage = time.monotonic() - down
        await leader_of([a, b], timeout=60)
        back = time.monotonic() - down
        await wait_until("submissions acknowledged again", some_more(submitter))
        submitter.stop.set()
        await submitting
        acknowledged = set(submitter.acknowledged)
        for hub in (a, b):
            stored = await placed_by_survivor(hub.address, acknowledged)
            assert acknowledged <= stored
        await wait_until("every node on both replicas again", everyone_everywhere)
        assert a.popen.poll() is None and b.popen.poll() is None
        print(
            f"\nPostgreSQL down {outage:.1f} s under {NODES} agents and submissions: a leader"
            f" again {back:.1f} s after the stop; acknowledged {len(acknowledged)}, refused"
            f" {submitter.refused}, lost 0"
        )
    finally:
        launch.close()


def some_more(submitter: Submitter) -> object:
    count = len(submitter.acknowledged)

    async def probe() -> bool:
        return len(submitter.acknowledged) >= count + 10

    return probe
