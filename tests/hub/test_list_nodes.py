"""ListNodes' state filter over a real hub on loopback: the one translation of node states,
and a state the wire does not know refused (INVALID_ARGUMENT) instead of ignored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from console.client import HubClient
from console.hub.config import HubConfig
from console.hub.server import Hub
from console.store import SqliteStore
from tests.security.conftest import send_one
from tongchou.v1 import common_pb2


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[HubClient]:
    hub = Hub(HubConfig(listen="127.0.0.1:0", metrics_listen=""), SqliteStore(tmp_path / "h.db"))
    await hub.start()
    try:
        for node in ("n1", "n2"):
            assert (await send_one(hub.port, None, node)).accepted
        async with HubClient(f"127.0.0.1:{hub.port}") as out:
            yield out
    finally:
        await hub.shutdown()


async def test_nodes_filtered_by_state(client: HubClient) -> None:
    ready = [n async for n in client.nodes(state=common_pb2.NODE_STATE_READY)]
    assert [(n.identity.node, n.state) for n in ready] == [
        ("n1", common_pb2.NODE_STATE_READY),
        ("n2", common_pb2.NODE_STATE_READY),
    ]
    assert [n async for n in client.nodes(state=common_pb2.NODE_STATE_LOST)] == []


async def test_a_state_the_wire_does_not_know_is_refused(client: HubClient) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await anext(client.nodes(state=common_pb2.NodeState.ValueType(9)))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details() == "state: 9 is not a node state (ready, stale or lost)"
