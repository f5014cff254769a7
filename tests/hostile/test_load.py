"""A real hub process under connection abuse — thousands of idle TCP connections, streams that
never report, a reconnect flood under one node's name — keeps acknowledging a probe agent,
and sheds the abuse by its limits."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import socket
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import grpc
import pytest

from console.documents import load_fleet
from console.simulate.nodes import sim_node
from console.simulate.runner import CONNECT, Simulator
from tests.e2e.conftest import HubProc, Launcher
from tongchou.v1 import agent_pb2

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "guangdong"

pytestmark = pytest.mark.slow


@pytest.fixture
def launch(tmp_path: Path) -> Any:
    launcher = Launcher(tmp_path)
    try:
        yield launcher
    finally:
        launcher.close()


def nodes(count: int, prefix: str) -> list[Any]:
    fleet = load_fleet([SAMPLE])
    template = fleet.nodes[sorted(fleet.nodes)[0]]
    return [sim_node(fleet, replace(template, name=f"{prefix}-{i}")) for i in range(count)]


async def acked_meanwhile(probe: Simulator, work: Any) -> int:
    """Runs `work`; returns how many acks the probe got while it ran."""
    before = probe.stats.acks
    await work
    return probe.stats.acks - before


async def idle_sockets(hub: HubProc, count: int, within: float) -> int:
    """Opens `count` TCP connections that send nothing; returns how many the hub has closed
    by `within` seconds."""
    held = []
    for _ in range(count):
        sock = socket.socket()
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            sock.connect(("127.0.0.1", hub.port))
        held.append(sock)
    closed: set[int] = set()
    deadline = time.monotonic() + within
    while len(closed) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        for i, sock in enumerate(held):
            if i in closed:
                continue
            try:
                if sock.recv(16) == b"":
                    closed.add(i)
            except BlockingIOError:
                pass
            except OSError:
                closed.add(i)
    for sock in held:
        sock.close()
    return len(closed)


async def silent_streams(hub: HubProc, count: int) -> list[grpc.StatusCode]:
    async with grpc.aio.insecure_channel(hub.address) as channel:
        connect: Any = channel.stream_stream(CONNECT, request_serializer=None)
        calls = [connect() for _ in range(count)]
        return list(await asyncio.gather(*(asyncio.wait_for(c.code(), 30) for c in calls)))


async def reconnect_flood(hub: HubProc, seconds: float) -> dict[str, int]:
    [node] = nodes(1, "flood")
    counts = {"ok": 0, "refused": 0}
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        async with grpc.aio.insecure_channel(hub.address) as channel:
            connect: Any = channel.stream_stream(
                CONNECT,
                request_serializer=None,
                response_deserializer=agent_pb2.ReportAck.FromString,
            )
            while time.monotonic() < deadline:
                call = connect()
                try:
                    await call.write(node.report())
                    await asyncio.wait_for(call.read(), 10)
                    counts["ok"] += 1
                except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
                    counts["refused"] += 1
                call.cancel()

    await asyncio.gather(*(worker() for _ in range(8)))
    return counts


async def test_a_real_hub_sheds_connection_abuse_and_keeps_acking(launch: Launcher) -> None:
    hub = launch.hub("--first-report-timeout", "2s", "--max-node-rate", "5")
    probe = Simulator(hub.address, nodes(1, "probe"), interval=0.2, ramp_seconds=0.0)
    runner = asyncio.create_task(probe.run(), name="probe-agent")
    try:
        # idle TCP connections (3,000, or what this process's descriptors allow): closed by
        # the handshake timeout (10 s), or at once beyond the hub's connection cap
        count = min(3000, resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 200)
        closed = [0]

        async def idle() -> None:
            closed[0] = await idle_sockets(hub, count, within=40.0)

        assert await acked_meanwhile(probe, idle()) >= 20
        assert closed[0] == count
        # 300 streams that never send a report: closed after the first-report timeout
        codes: list[grpc.StatusCode] = []

        async def silent() -> None:
            codes.extend(await silent_streams(hub, 300))

        assert await acked_meanwhile(probe, silent()) >= 5
        assert set(codes) == {grpc.StatusCode.DEADLINE_EXCEEDED}
        # a new stream per report under one node's name: the node's rate holds
        flood: dict[str, int] = {}

        async def reconnect() -> None:
            flood.update(await reconnect_flood(hub, 5.0))

        assert await acked_meanwhile(probe, reconnect()) >= 10
        assert flood["refused"] > 0
        assert flood["ok"] <= 5 * 5 + 10 + 5  # rate × seconds + burst + the last second
        assert probe.stats.failures == 0 and probe.stats.rejected == 0
    finally:
        probe.stop.set()
        await runner
        assert hub.stop() == 0
