"""Connection hygiene: idle connections closed, a stream without a report closed, streams per
peer capped, and a report rate limit per node that reconnecting does not reset."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest

from console.documents import load_fleet
from console.hub.config import HubConfig
from console.hub.fleet.hygiene import Hygiene, peer_host
from console.hub.server import Hub
from console.model.fleet import Fleet
from console.simulate.nodes import sim_node
from console.store import SqliteStore
from tongchou.v1 import agent_pb2

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "guangdong"
CONNECT = "/tongchou.v1.AgentService/Connect"

HubFactory = Callable[[Hygiene], AbstractAsyncContextManager[Hub]]


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return load_fleet([SAMPLE])


@pytest.fixture
def hub_with(tmp_path: Path, fleet: Fleet) -> HubFactory:
    @asynccontextmanager
    async def start(hygiene: Hygiene) -> AsyncIterator[Hub]:
        config = HubConfig(
            listen="127.0.0.1:0", metrics_listen="", report_interval=0.2, hygiene=hygiene
        )
        hub = Hub(config, SqliteStore(tmp_path / "hub.db"))
        hub.load_fleet(fleet)
        await hub.start()
        try:
            yield hub
        finally:
            await hub.shutdown()

    return start


def report(fleet: Fleet, index: int = 0) -> agent_pb2.NodeReport:
    node = fleet.nodes[sorted(fleet.nodes)[index]]
    return agent_pb2.NodeReport.FromString(sim_node(fleet, node).report())


def stream(channel: grpc.aio.Channel) -> Any:
    return channel.stream_stream(
        CONNECT,
        request_serializer=agent_pb2.NodeReport.SerializeToString,
        response_deserializer=None,
    )()


def rejected(hub: Hub, reason: str) -> float:
    return float(hub.metrics.rejected.labels(reason)._value.get())


def test_peer_host() -> None:
    assert peer_host("ipv4:10.0.0.7:51234") == "ipv4:10.0.0.7"
    assert peer_host("ipv6:[::1]:7470") == "ipv6:[::1]"
    assert peer_host("unix:/run/x") == "unix:/run/x"


async def test_a_stream_without_a_report_is_closed(hub_with: HubFactory) -> None:
    async with (
        hub_with(Hygiene(first_report_seconds=0.5)) as hub,
        grpc.aio.insecure_channel(f"127.0.0.1:{hub.port}") as channel,
    ):
        call = stream(channel)
        code = await asyncio.wait_for(call.code(), 30)
        assert code == grpc.StatusCode.DEADLINE_EXCEEDED
        assert "no report within 0.5 s" in (await call.details() or "")
        assert rejected(hub, "no_first_report") == 1


async def test_agent_streams_per_peer_are_capped(hub_with: HubFactory, fleet: Fleet) -> None:
    async with (
        hub_with(Hygiene(max_streams_per_peer=3)) as hub,
        grpc.aio.insecure_channel(f"127.0.0.1:{hub.port}") as channel,
    ):
        calls = []
        for i in range(3):  # one at a time: each is admitted before the next opens
            calls.append(stream(channel))
            await calls[i].write(report(fleet, i))
            await calls[i].read()
        calls.append(stream(channel))
        with contextlib.suppress(grpc.aio.AioRpcError, asyncio.InvalidStateError):
            await calls[3].write(report(fleet, 3))
        assert await asyncio.wait_for(calls[3].code(), 30) == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "more than 3 agent streams from ipv4:127.0.0.1" in (await calls[3].details() or "")
        assert rejected(hub, "peer_streams") == 1
        for call in calls[:3]:
            call.cancel()
        await asyncio.sleep(0.2)
        assert hub.ingest.peers.open == {}


async def test_reconnecting_does_not_beat_the_node_rate_limit(
    hub_with: HubFactory, fleet: Fleet
) -> None:
    base = report(fleet)
    codes: list[grpc.StatusCode] = []
    async with (
        hub_with(Hygiene(max_node_rate=2.0)) as hub,
        grpc.aio.insecure_channel(f"127.0.0.1:{hub.port}") as channel,
    ):
        for i in range(12):  # a new stream for every report, at once
            one = agent_pb2.NodeReport()
            one.CopyFrom(base)
            one.sequence = base.sequence + i
            call = stream(channel)
            try:
                await call.write(one)
                await call.read()
                codes.append(grpc.StatusCode.OK)
            except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
                codes.append(await call.code())
            call.cancel()
        assert codes[:4] == [grpc.StatusCode.OK] * 4  # the burst
        assert grpc.StatusCode.RESOURCE_EXHAUSTED in codes[4:]
        assert rejected(hub, "node_rate_limited") >= 1


async def test_idle_tcp_connections_are_closed_and_capped(hub_with: HubFactory) -> None:
    async with hub_with(Hygiene(handshake_seconds=1.0, max_connections=20)) as hub:
        assert hub.metrics.max_connections._value.get() == 20
        held = [socket.create_connection(("127.0.0.1", hub.port)) for _ in range(30)]
        try:
            closed_at: dict[int, float] = {}
            started = time.monotonic()
            while len(closed_at) < len(held) and time.monotonic() - started < 20:
                await asyncio.sleep(0.2)
                for i, sock in enumerate(held):
                    if i in closed_at:
                        continue
                    sock.setblocking(False)
                    try:
                        if sock.recv(1024) == b"":
                            closed_at[i] = time.monotonic() - started
                    except BlockingIOError:
                        pass
                    except OSError:
                        closed_at[i] = time.monotonic() - started
            assert len(closed_at) == len(held), "idle connections were left open"
        finally:
            for sock in held:
                sock.close()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{hub.port}") as channel:
            await asyncio.wait_for(channel.channel_ready(), 10)  # room again for a real caller
