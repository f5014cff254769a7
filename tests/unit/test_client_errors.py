"""The hub's client raises its own error type, for unary calls and streams, with the hub's words."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from console.client import HubClient, HubError
from console.hub.config import HubConfig
from console.hub.server import Hub
from console.store import SqliteStore


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    running = Hub(
        HubConfig(listen="127.0.0.1:0", metrics_listen=""), SqliteStore(tmp_path / "h.db")
    )
    await running.start()
    yield running
    await running.shutdown()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_refusal_is_a_hub_error_with_the_hubs_message(hub: Hub) -> None:
    async with HubClient(f"127.0.0.1:{hub.port}") as client:
        with pytest.raises(HubError) as caught:
            await client.node("nowhere-1")
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert caught.value.message == "no node named 'nowhere-1'"
    assert isinstance(caught.value, grpc.aio.AioRpcError)  # callers of gRPC's error still catch it


async def test_a_bad_stream_request_is_a_hub_error(hub: Hub) -> None:
    async with HubClient(f"127.0.0.1:{hub.port}") as client:
        with pytest.raises(HubError) as caught:
            async for _delta in client.watch(division="12"):
                pass
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.message.startswith("division: ")


async def test_a_hub_that_is_away_is_a_hub_error() -> None:
    async with HubClient(f"127.0.0.1:{closed_port()}") as client:
        with pytest.raises(HubError) as caught:
            await client.fleet_summary(timeout=5)
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    assert caught.value.message
