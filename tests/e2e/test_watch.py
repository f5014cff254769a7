"""Watching the hub: a snapshot of the fleet, then deltas, including a node going stale."""

from __future__ import annotations

import asyncio
import signal

import pytest

from console.client import HubClient
from console.client.fleet_view import FleetView
from tests.e2e.conftest import SAMPLE, Launcher
from tongchou.v1 import common_pb2

pytestmark = pytest.mark.slow
NODE = "gz-tianhe-test-01"


async def test_watch_gives_a_snapshot_then_deltas_and_shows_a_node_going_stale(
    launch: Launcher,
) -> None:
    hub = launch.hub("--lost-after", "4s")
    agent = launch.agent(hub.address)
    launch.spawn("simulate", "simulate", "--fleet", str(SAMPLE), "--hub", hub.address,
                 "--limit", "30")  # fmt: skip
    view = FleetView()
    seen_states: list[int] = []
    everyone = asyncio.Event()

    async def follow() -> None:
        async with HubClient(hub.address) as client:
            async for delta in client.watch():
                changed = view.apply(delta)
                if view.ready and NODE in view.nodes and len(view.nodes) >= 31:
                    everyone.set()
                if NODE in changed:
                    seen_states.append(view.nodes[NODE].state)
                if (
                    common_pb2.NODE_STATE_LOST in seen_states
                    and view.summary.totals.nodes_lost >= 1
                ):
                    return

    async def kill_when_ready() -> None:
        await everyone.wait()
        agent.stop(signal.SIGKILL)

    await asyncio.wait_for(asyncio.gather(follow(), kill_when_ready()), 40)
    assert view.ready
    assert len(view.nodes) >= 31
    assert common_pb2.NODE_STATE_READY in seen_states
    stale = seen_states.index(common_pb2.NODE_STATE_STALE)
    lost = seen_states.index(common_pb2.NODE_STATE_LOST)
    assert stale < lost, seen_states
    kinds = {e.kind for e in view.events}
    assert {"registered", "stale", "lost"} <= kinds
