"""Two hub replicas on PostgreSQL; the leader is killed with SIGKILL while agents report and
workloads are submitted: nothing acknowledged is lost, the other leads and places, agents move
over, a console keeps watching. The figures are printed."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest

from console.client import HubClient
from tests.e2e.conftest import ROOT
from tests.e2e.test_hub_workloads import ANYWHERE, ARM, BASE, X86
from tests.replicas.conftest import Replicas, leader_of
from tongchou.v1 import common_pb2

pytestmark = pytest.mark.slow

NODES_PER_POOL = 15
NODES = 2 * NODES_PER_POOL


def workload(i: int) -> str:
    return (
        ANYWHERE.replace("tianhe-portal", f"w-{i:04}")
        .replace("replicas: 4", "replicas: 1")
        .replace('cpu: "8", memory: 16Gi', 'cpu: "1", memory: 1Gi')
    )


@dataclass
class Submitter:
    """Submits workloads one after another over the replicas' shared address; counts what
    was acknowledged (the call returned) and what was refused."""

    address: str
    acknowledged: list[str] = field(default_factory=list)
    refused: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        i = 0
        async with HubClient(self.address) as client:
            while not self.stop.is_set():
                try:
                    status = await client.submit_workload(workload(i), timeout=5)
                except grpc.aio.AioRpcError:
                    self.refused += 1
                else:
                    self.acknowledged.append(status.name)
                i += 1
                await asyncio.sleep(0.05)


async def watch_count(address: str, counts: list[int], stop: asyncio.Event) -> None:
    """A console's watch over the replicas' shared address, watching again when its stream
    ends (as the console does): counts[0] deltas received, counts[1] streams broken."""
    async with HubClient(address) as client:
        while not stop.is_set():
            try:
                async for _delta in client.watch():
                    counts[0] += 1
                    if stop.is_set():
                        return
            except grpc.aio.AioRpcError:
                counts[1] += 1
                await asyncio.sleep(0.2)


async def ready_nodes(address: str) -> dict[str, int]:
    async with HubClient(address) as client:
        return {
            n.identity.node: n.last_sequence
            async for n in client.nodes(page_size=100)
            if n.state == common_pb2.NODE_STATE_READY
        }


async def wait_until(what: str, probe: object, timeout: float = 60.0) -> None:
    assert callable(probe)
    deadline = time.monotonic() + timeout
    while not await probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def fleet_files(tmp_path: Path) -> list[Path]:
    files = []
    for name, text in (
        ("base", BASE),
        ("x86", X86.replace("count: 3", f"count: {NODES_PER_POOL}")),
        ("arm", ARM.replace("count: 2", f"count: {NODES_PER_POOL}")),
    ):
        (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
        files.append(tmp_path / f"{name}.yaml")
    return files


async def placed_by_survivor(address: str, acknowledged: set[str]) -> set[str]:
    """Waits until every acknowledged workload is stored and placed; returns those stored."""
    async with HubClient(address) as client:

        async def all_placed() -> bool:
            stored = {w.name: w for w in await client.workloads()}
            return acknowledged <= set(stored) and all(stored[n].pending == 0 for n in acknowledged)

        await wait_until("every acknowledged workload placed by the new leader", all_placed)
        stored = {w.name: w for w in await client.workloads()}
    assert all(sum(p.replicas for p in stored[n].placed) == 1 for n in acknowledged)
    return set(stored)


async def test_kill_9_the_leader_under_load(replicas: Replicas, tmp_path: Path) -> None:
    files = fleet_files(tmp_path)
    fleet = ("--fleet", str(files[0]), "--policies", str(ROOT / "policies"))
    a = replicas.replica("a", *fleet)
    b = replicas.replica("b", *fleet)
    leader = await leader_of([a, b])
    survivor = b if leader is a else a
    both = f"{a.address},{b.address}"
    replicas.spawn(
        "simulate", "simulate", "--fleet", str(files[0]), "--fleet", str(files[1]),
        "--fleet", str(files[2]), "--hub", both,
    )  # fmt: skip

    async def everyone_everywhere() -> bool:
        views = [await ready_nodes(h.address) for h in (a, b)]
        return all(len(v) == NODES for v in views)

    await wait_until("every node on both replicas", everyone_everywhere)

    watched = [0, 0]
    watch_stop = asyncio.Event()
    # the console's channel takes the first address that answers: the leader, soon killed
    console = f"{leader.address},{survivor.address}"
    watcher = asyncio.create_task(watch_count(console, watched, watch_stop), name="test-watch")
    submitter = Submitter(both)
    submitting = asyncio.create_task(submitter.run(), name="test-submitter")

    async def some_acknowledged() -> bool:
        return len(submitter.acknowledged) >= 20

    await wait_until("the first acknowledged submissions", some_acknowledged)
    before_kill = len(submitter.acknowledged)
    sequences = await ready_nodes(survivor.address)

    assert leader.stop(signal.SIGKILL) == -signal.SIGKILL
    killed = time.monotonic()
    assert await leader_of([survivor]) is survivor
    takeover = time.monotonic() - killed
    watched_at_kill = watched[0]

    await asyncio.sleep(3.0)  # submissions go on against the survivor
    submitter.stop.set()
    await submitting
    acknowledged = set(submitter.acknowledged)
    assert len(acknowledged) > before_kill, "submissions were acknowledged after the kill"

    stored = await placed_by_survivor(survivor.address, acknowledged)
    lost = acknowledged - set(stored)
    assert lost == set()

    async def reattached() -> bool:
        now = await ready_nodes(survivor.address)
        return len(now) == NODES and all(now[n] > sequences.get(n, 0) for n in now)

    await wait_until("every agent reporting to the survivor", reattached)
    reattach = time.monotonic() - killed

    async def still_watching() -> bool:
        return watched[0] > watched_at_kill

    await wait_until("the console's watch to go on", still_watching)
    assert watched[1] >= 1, "the console was watching the leader, and its stream broke"
    watch_stop.set()
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    print(
        f"\nreplicas: 2 on PostgreSQL, {NODES} agents; killed the leader ({leader.popen.pid})"
        f"\n  workloads acknowledged {len(acknowledged)} (refused {submitter.refused}),"
        f" stored {len(acknowledged & set(stored))}, lost {len(lost)}"
        f"\n  takeover {takeover:.2f} s; every agent reporting to the survivor after"
        f" {reattach:.1f} s; a console watching the leader got"
        f" {watched[0] - watched_at_kill} deltas from the survivor after {watched[1]} broken stream"
    )
