"""SIGKILL the hub mid-stream and restart it on the same store: nothing is lost, agents resume."""

from __future__ import annotations

import signal

import pytest

from console.client import HubClient
from tests.e2e.conftest import SAMPLE, Launcher, free_port
from tests.e2e.waiting import eventually
from tongchou.v1 import common_pb2, inventory_pb2

pytestmark = pytest.mark.slow
NODE = "gz-tianhe-test-01"
SIMULATED = 60


async def all_nodes(address: str) -> dict[str, inventory_pb2.Node]:
    async with HubClient(address) as client:
        return {node.identity.node: node async for node in client.nodes(page_size=25)}


async def test_sigkill_loses_no_node_or_label_and_agents_reconnect(launch: Launcher) -> None:
    port = free_port()
    hub = launch.hub(port=port)
    agent = launch.agent(hub.address)
    launch.spawn(
        "simulate", "simulate", "--fleet", str(SAMPLE), "--hub", hub.address,
        "--limit", str(SIMULATED),
    )  # fmt: skip

    async def everyone() -> dict[str, inventory_pb2.Node] | None:
        nodes = await all_nodes(hub.address)
        return nodes if len(nodes) == SIMULATED + 1 else None

    before = await eventually(everyone, timeout=30, what="every node to register")
    assert before[NODE].identity.labels["owner"] == "数字政府"

    assert hub.stop(signal.SIGKILL) == -signal.SIGKILL
    restarted = launch.hub(port=port, store=hub.store)

    after = await all_nodes(restarted.address)
    assert set(after) == set(before), "every registered node survives the kill"
    for name, node in before.items():
        assert after[name].identity == node.identity, f"{name} kept its identity and labels"
        assert after[name].capacity == node.capacity
        assert after[name].first_seen == node.first_seen

    seen = before[NODE].last_sequence

    waiting: list[str] = []

    async def resumed() -> inventory_pb2.Node | None:
        nodes = await all_nodes(restarted.address)
        waiting[:] = [
            name
            for name, n in nodes.items()
            if n.last_sequence <= after[name].last_sequence
            or n.state != common_pb2.NODE_STATE_READY
        ]
        mine = nodes[NODE]
        return mine if mine.last_sequence > seen + 2 and not waiting else None

    try:
        node = await eventually(resumed, timeout=30, what="the agents to report again")
    except AssertionError as err:
        raise AssertionError(f"{err}; still silent: {waiting[:10]}") from None
    assert agent.popen.poll() is None, "the agent process was never restarted"
    assert node.identity == before[NODE].identity
    assert "reconnecting" in agent.text()
