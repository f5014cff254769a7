"""Placements written by the scheduling passes go to the store off the event loop: a frozen
store delays their write, never a probe agent's acknowledgements; a write the store refuses
is tried again until memory and the store agree."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from console.client import HubClient
from console.documents import load_fleet
from console.hub.config import HubConfig
from console.hub.server import Hub
from console.model.fleet import Fleet
from console.simulate.nodes import sim_node
from console.simulate.runner import Simulator
from console.store import SqliteStore
from console.store.base import StoredWorkload

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "guangdong"
WAIT = 30.0  # seconds a test waits for something that should come much sooner


class PlacementGate(SqliteStore):
    """A real SQLite store whose placement writes can be frozen (they wait on `release`) or
    made to fail (`failures` more times, as a full disk does)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.release = threading.Event()
        self.release.set()
        self.entered = threading.Event()  # a placement write is waiting on `release`
        self.returned = threading.Event()  # ... and has returned since
        self.failures = 0
        self.threads: list[str] = []

    def save_placements(self, workloads: Sequence[StoredWorkload]) -> None:
        self.threads.append(threading.current_thread().name)
        if not self.release.is_set():
            self.entered.set()
            self.release.wait(WAIT)
            self.returned.set()
        if self.failures > 0:
            self.failures -= 1
            raise sqlite3.OperationalError("database or disk is full")
        super().save_placements(workloads)


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return load_fleet([SAMPLE])


@pytest.fixture
async def hub(tmp_path: Path, fleet: Fleet) -> AsyncIterator[Hub]:
    config = HubConfig(
        listen="127.0.0.1:0", metrics_listen="", report_interval=0.2, retry_interval=0.2
    )
    hub = Hub(config, PlacementGate(tmp_path / "hub.db"))
    hub.load_fleet(fleet)
    await hub.start()
    try:
        yield hub
    finally:
        gate(hub).release.set()
        await hub.shutdown()


def gate(hub: Hub) -> PlacementGate:
    assert isinstance(hub.store, PlacementGate)
    return hub.store


def guangzhou_nodes(fleet: Fleet, count: int) -> list[str]:
    clusters = {c.name for c in fleet.clusters.values() if fleet.sites[c.site].division == "440100"}
    return sorted(n.name for n in fleet.nodes.values() if n.cluster in clusters)[:count]


def workload(name: str, replicas: int) -> str:
    return (
        f"apiVersion: tongchou.io/v1\nkind: Workload\nmetadata: {{name: {name}}}\n"
        f"spec: {{owner: '440100', replicas: {replicas}, resources: {{cpu: 1, memory: 1Gi}},"
        " image: registry.example/app:1, mlpsLevel: 2}\n"
    )


class Agents:
    """Agents of declared nodes, each a real stream reporting every 0.2 s."""

    def __init__(self, hub: Hub, fleet: Fleet, names: list[str]) -> None:
        self.names = names
        self.sim = Simulator(
            f"127.0.0.1:{hub.port}",
            [sim_node(fleet, fleet.nodes[n]) for n in names],
            interval=0.2,
            ramp_seconds=0.0,
        )
        self.task = asyncio.create_task(self.sim.run(), name="test-agents")

    async def stop(self) -> None:
        self.sim.stop.set()
        await self.task


async def agents(hub: Hub, fleet: Fleet, names: list[str]) -> Agents:
    """Starts the agents; returns once the hub holds every one of them."""
    out = Agents(hub, fleet, names)
    await until(lambda: all(n in hub.inventory.nodes for n in names))
    return out


async def until(condition: object, seconds: float = WAIT) -> None:
    assert callable(condition)
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out waiting")


async def stored_placement(hub: Hub, name: str) -> dict[str, int]:
    rows = await asyncio.to_thread(hub.store.load_workloads)
    return next((dict(r.placed) for r in rows if r.name == name), {})


async def test_a_frozen_placement_write_does_not_stall_the_probe(hub: Hub, fleet: Fleet) -> None:
    """A retry pass places a pending workload while the store's placement writes are frozen:
    the probe agent's reports are acknowledged all the while; the placement lands after."""
    first, second = guangzhou_nodes(fleet, 2)
    probe = await agents(hub, fleet, [first])
    client = HubClient(f"127.0.0.1:{hub.port}")
    try:
        big = fleet.nodes[first].capacity.cpu_milli // 1000
        await client.submit_workload(workload("wide", big + 1))  # more than one node holds
        record = hub.workloads.records["wide"]
        assert record.pending > 0
        store = gate(hub)
        store.release.clear()  # freeze placement writes
        other = await agents(hub, fleet, [second])  # the inventory changes: a retry pass
        await until(store.entered.is_set)
        acks = probe.sim.stats.acks
        await until(lambda: probe.sim.stats.acks >= acks + 3 or store.returned.is_set())
        assert not store.returned.is_set(), "the probe waited for the frozen placement write"
        assert probe.sim.stats.failures == 0
        store.release.set()
        await until(lambda: hub.workloads.unsaved == 0)
        assert await stored_placement(hub, "wide") == record.placed
        assert threading.main_thread().name not in store.threads
        await other.stop()
    finally:
        await client.close()
        await probe.stop()


async def test_a_refused_placement_write_is_tried_again(hub: Hub, fleet: Fleet) -> None:
    (node,) = guangzhou_nodes(fleet, 1)
    client = HubClient(f"127.0.0.1:{hub.port}")
    try:
        await client.submit_workload(workload("later", 1))  # no live node: pending
        store = gate(hub)
        store.failures = 2  # the disk is full for the next two placement writes
        probe = await agents(hub, fleet, [node])
        await until(lambda: bool(hub.workloads.records["later"].placed))
        placed = hub.workloads.records["later"].placed
        assert placed == {fleet.nodes[node].cluster: 1}
        for _ in range(int(WAIT / 0.1)):  # the next passes write it again
            if await stored_placement(hub, "later") == placed:
                break
            await asyncio.sleep(0.1)
        assert await stored_placement(hub, "later") == placed
        assert store.failures == 0
        await probe.stop()
    finally:
        await client.close()
