"""The agent's stream against a scripted hub on a real loopback gRPC server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from agent.collect import Collector
from agent.config import AgentConfig
from agent.daemon import Agent
from agent.metrics import AgentMetrics
from agent.report import ReportBuilder
from tests.e2e.waiting import eventually
from tongchou.v1 import agent_pb2


class ScriptedHub:
    """Answers the n-th report of all streams with the n-th scripted ack (then plain acks)."""

    def __init__(self, script: list[agent_pb2.ReportAck]) -> None:
        self.script = script
        self.reports: list[tuple[int, agent_pb2.NodeReport]] = []
        self.streams = 0
        self.got = asyncio.Event()

    async def connect(
        self, requests: AsyncIterator[agent_pb2.NodeReport], context: Any
    ) -> AsyncIterator[agent_pb2.ReportAck]:
        self.streams += 1
        stream = self.streams
        async for report in requests:
            self.reports.append((stream, report))
            self.got.set()
            n = len(self.reports)
            yield self.script[n - 1] if n <= len(self.script) else ack(report.sequence)


def ack(sequence: int, interval: float = 30.0, *commands: agent_pb2.Command) -> agent_pb2.ReportAck:
    out = agent_pb2.ReportAck(sequence=sequence, accepted=True, commands=list(commands))
    out.report_interval.FromMilliseconds(int(interval * 1000))
    return out


async def serve(hub: ScriptedHub) -> tuple[grpc.aio.Server, int]:
    server = grpc.aio.server()
    handler = grpc.stream_stream_rpc_method_handler(
        hub.connect,
        request_deserializer=agent_pb2.NodeReport.FromString,
        response_serializer=agent_pb2.ReportAck.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("tongchou.v1.AgentService", {"Connect": handler}),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


@pytest.fixture(params=["h2", "grpcio"])
def transport(request: pytest.FixtureRequest) -> str:
    """Every test runs with both gRPC libraries: the hub must not tell them apart."""
    return str(request.param)


def make_agent(port: int, interval: float = 30.0, **extra: Any) -> Agent:
    config = AgentConfig(
        hub=f"127.0.0.1:{port}", node="n1", division="440106", level="county", site="s",
        cluster="c", provider="on-prem", mlps_level=3, interval=interval, **extra,
    )  # fmt: skip
    return Agent(config, ReportBuilder(config, Collector()), metrics=AgentMetrics())


async def wait_reports(hub: ScriptedHub, count: int, timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while len(hub.reports) < count:
            hub.got.clear()
            await hub.got.wait()


async def test_obeys_interval_report_now_and_reconnect(transport: str) -> None:
    report_now = agent_pb2.Command(kind=agent_pb2.Command.KIND_REPORT_NOW)
    reconnect = agent_pb2.Command(kind=agent_pb2.Command.KIND_RECONNECT)
    reconnect.delay.FromMilliseconds(100)
    hub = ScriptedHub([ack(1, 30.0, report_now), ack(2, 30.0, reconnect), ack(3, 7.5)])
    server, port = await serve(hub)
    agent = make_agent(port, interval=30.0, transport=transport)
    task = asyncio.create_task(agent.run())
    try:
        # REPORT_NOW: the second report comes at once, not after 30 s.
        await wait_reports(hub, 2)
        # RECONNECT: the third report comes on a new stream of the same run, sequence going on.
        await wait_reports(hub, 3)
        (s1, r1), (s2, r2), (s3, r3) = hub.reports[:3]
        assert (s1, s2, s3) == (1, 1, 2)
        assert (r1.sequence, r2.sequence, r3.sequence) == (1, 2, 3)
        assert r1.run_id == r3.run_id
        await asyncio.sleep(0.2)
        assert agent.interval == 7.5
        assert len(hub.reports) == 3, "no report before the interval the hub asked for"
    finally:
        agent.stop.set()
        await asyncio.wait_for(task, 5)
        await server.stop(None)


async def test_backs_off_while_the_hub_is_away_and_buffers_nothing(transport: str) -> None:
    server, port = await serve(ScriptedHub([]))
    await server.stop(None)  # nothing listens on the port now
    agent = make_agent(
        port, interval=0.05, backoff_initial=0.02, backoff_max=0.1, transport=transport
    )
    task = asyncio.create_task(agent.run())

    async def tried_five_times() -> bool | None:
        return agent.metrics.reconnects.value >= 4 or None

    try:  # kept trying: five attempts, however slow the machine
        await eventually(tried_five_times, timeout=30, what="five connection attempts")
    finally:
        agent.stop.set()
        await asyncio.wait_for(task, 5)
    attempts = agent.metrics.reconnects.value + 1
    assert attempts >= 5
    # One report is built per attempt and dropped with it: nothing piles up.
    assert agent.builder.sequence <= attempts
    assert agent.backoff.attempt >= 3


@pytest.mark.parametrize("code", [grpc.StatusCode.INVALID_ARGUMENT])
async def test_a_rejected_report_is_counted(code: grpc.StatusCode, transport: str) -> None:
    class Rejecting(ScriptedHub):
        async def connect(
            self, requests: AsyncIterator[agent_pb2.NodeReport], context: Any
        ) -> AsyncIterator[agent_pb2.ReportAck]:
            async for report in requests:
                self.reports.append((1, report))
                self.got.set()
                await context.abort(code, "usage.cpu_ratio is nan")
            yield ack(0)  # never reached

    hub = Rejecting([])
    server, port = await serve(hub)
    agent = make_agent(port, backoff_initial=0.02, backoff_max=0.05, transport=transport)
    task = asyncio.create_task(agent.run())
    try:
        await wait_reports(hub, 2)
    finally:
        agent.stop.set()
        await asyncio.wait_for(task, 5)
        await server.stop(None)
    assert agent.metrics.reports.labels("rejected").value >= 1
    assert agent.metrics.reports.labels("accepted").value == 0
