"""A restarted hub keeps failover; a hub on another or an empty store deletes nothing.

Real hubs (killed with SIGKILL and started again on the same port and store), simulated
agents over gRPC, emulated Kubernetes APIs.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from console.client import HubClient
from console.store import SqliteStore
from tests.e2e.conftest import Launcher
from tests.e2e.waiting import eventually
from tests.executor.emulator import EmulatedCluster
from tests.executor.test_failover import Scene, failed_over, placed, seal_status, start

pytestmark = pytest.mark.slow


async def test_a_killed_hub_keeps_failover_and_its_move_back(
    launch: Launcher, tmp_path: Path, clusters: dict[str, EmulatedCluster]
) -> None:
    scene = Scene(launch, tmp_path, clusters, "--move-back", "always")
    async with HubClient(scene.hub.address) as hub:
        await start(scene, hub)
        clusters["sz-b"].stop()
        await failed_over(scene, hub)
    scene.hub.stop(signal.SIGKILL)
    clusters["sz-b"].start()  # the API is back while the hub is down
    # agents not heard since the start are given --lost-after before they count as lost;
    # the simulators are started again so that they need not wait out their backoff
    restarted = time.monotonic()
    scene.relaunch("--lost-after", "20s", "--recover-after", "10s")
    for cluster in ("gz-a", "sz-b"):
        scene.sims[cluster].stop()  # type: ignore[attr-defined]
        scene.sims[cluster] = scene.simulate(cluster)
    async with HubClient(scene.hub.address) as hub:
        await hub.wait_ready(20)

        async def all_ready() -> int | None:
            return 1 if (await hub.fleet_summary()).totals.nodes_ready == 4 else None

        await eventually(all_ready, what="the four nodes reporting again")
        # still out: it must be healthy for --recover-after again, nothing comes back early
        while time.monotonic() - restarted < 8.0:
            log = scene.hub.text()[-3000:]
            assert placed(await seal_status(hub)) == {"gz-a": 6}, log
            assert scene.metric("tongchou_cluster_available", cluster="sz-b") == 0.0, log
            await asyncio.sleep(0.3)

        async def returned() -> dict[str, int] | None:
            got = placed(await seal_status(hub))
            return got if got == {"gz-a": 3, "sz-b": 3} else None

        # and move-back remembers what left it
        await eventually(returned, timeout=40, what="the replicas to move back to sz-b")

        async def surged() -> int | None:
            return 1 if scene.deployment_replicas("sz-b") == 3 else None

        await eventually(surged, what="sz-b's Deployment back at 3")
        assert scene.deployment_replicas("gz-a") == 6  # sz-b's replicas are not ready yet
    # killed in the middle of the move: the old replicas stay until the new ones are ready
    scene.hub.stop(signal.SIGKILL)
    scene.relaunch("--lost-after", "20s", "--recover-after", "10s")
    async with HubClient(scene.hub.address) as hub:
        await hub.wait_ready(20)
        for _ in range(10):
            assert scene.deployment_replicas("gz-a") == 6, scene.hub.text()[-3000:]
            await asyncio.sleep(0.3)
        scene.mark_ready("sz-b")

        async def released() -> int | None:
            return 1 if scene.deployment_replicas("gz-a") == 3 else None

        await eventually(released, what="gz-a scaled down once sz-b's replicas are ready")
    assert scene.hub.stop() == 0
    events = SqliteStore(scene.hub.store).recent_events(1000)
    # no second failover after a restart (events of a killed hub may die with it before its
    # next flush), and the move ends in the last hub
    assert [e.node for e in events if e.kind == "failover"] in ([], ["sz-b"])
    assert [e.node for e in events if e.kind == "moved"] == ["gd-e-seal"]


async def test_a_hub_on_an_empty_store_deletes_nothing_until_adopting(
    launch: Launcher, tmp_path: Path, clusters: dict[str, EmulatedCluster]
) -> None:
    scene = Scene(launch, tmp_path, clusters)
    async with HubClient(scene.hub.address) as hub:
        await start(scene, hub)
    assert scene.hub.stop() == 0
    writes = {name: c.writes() for name, c in clusters.items()}
    empty = tmp_path / "empty.db"
    scene.relaunch(store=empty)
    async with HubClient(scene.hub.address) as hub:
        await hub.wait_ready(20)

        async def reported() -> float | None:
            found = scene.metric("tongchou_executor_foreign_objects", cluster="gz-a")
            return found if found else None

        # it sees the first hub's three objects in each cluster, and leaves them
        assert await eventually(reported, what="foreign objects reported") == 3.0
        for _ in range(10):
            assert all(scene.deployment_replicas(c) == 3 for c in clusters)
            await asyncio.sleep(0.3)
        assert {name: c.writes() for name, c in clusters.items()} == writes
    assert scene.hub.stop() == 0
    events = SqliteStore(empty).recent_events(1000)
    foreign = [e for e in events if e.kind == "foreign"]
    assert len(foreign) == 6 and "--adopt" in foreign[0].message
    # the operator confirms: the store is the desired state, the objects go
    scene.relaunch("--adopt", store=empty)
    async with HubClient(scene.hub.address) as hub:
        await hub.wait_ready(20)

        async def pruned() -> int | None:
            return 1 if all(scene.deployment_replicas(c) is None for c in clusters) else None

        await eventually(pruned, timeout=30, what="the adopted objects pruned")
