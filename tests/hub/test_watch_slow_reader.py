"""A console that stops reading its Watch stream, over a real gRPC socket: while it is behind,
the hub keeps taking reports; when it reads again it gets the nodes' newest state as deltas,
never the whole fleet again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from agent.collect import Collector
from agent.config import AgentConfig
from agent.report import ReportBuilder
from console.client.fleet_view import FleetView
from console.hub.config import HubConfig
from console.hub.server import Hub
from console.store import SqliteStore
from tongchou.v1 import agent_pb2, inventory_pb2, inventory_pb2_grpc, relay_pb2

NODES = 2000
BATCH = 500
PAUSE = 14.0  # seconds the console does not read: more ticks than a bounded backlog holds


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    config = HubConfig(listen="127.0.0.1:0", metrics_listen="", report_interval=0.5)
    hub = Hub(config, SqliteStore(tmp_path / "hub.db"))
    await hub.start()
    try:
        yield hub
    finally:
        await hub.shutdown()


def fleet_reports() -> list[agent_pb2.NodeReport]:
    config = AgentConfig(
        node="n", division="440106", level="county", site="site-a", cluster="a1",
        provider="on-prem", mlps_level=3, insecure=True,
    )  # fmt: skip
    template = ReportBuilder(config, Collector()).next()
    out = []
    for i in range(NODES):
        one = agent_pb2.NodeReport()
        one.CopyFrom(template)
        one.identity.node = f"n-{i:05d}"
        out.append(one)
    return out


class Relay:
    """Forwards every node's next report, BATCH at a time, and counts the acks."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.call = channel.stream_stream(
            "/tongchou.v1.RelayService/Forward",
            request_serializer=relay_pb2.RelayBatch.SerializeToString,
            response_deserializer=relay_pb2.RelayAck.FromString,
        )()
        self.reports = fleet_reports()
        self.batches = 0
        self.acked = 0

    async def round(self) -> None:
        for start in range(0, NODES, BATCH):
            self.batches += 1
            batch = relay_pb2.RelayBatch(site="site-a", run_id="run", batch=self.batches)
            for one in self.reports[start : start + BATCH]:
                one.sequence += 1
                batch.reports.append(one)
            await self.call.write(batch)
            ack = await asyncio.wait_for(self.call.read(), 30)
            assert isinstance(ack, relay_pb2.RelayAck) and ack.accepted == len(batch.reports)
            self.acked += ack.accepted


@pytest.mark.slow
async def test_a_console_that_stops_reading_gets_coalesced_deltas_not_snapshots(
    hub: Hub,
) -> None:
    target = f"127.0.0.1:{hub.port}"
    async with grpc.aio.insecure_channel(target) as relay_channel:
        relay = Relay(relay_channel)
        await relay.round()
        # No window growth: the hub's sends block as soon as 64 KiB wait unread.
        options = [("grpc.http2.bdp_probe", 0)]
        async with grpc.aio.insecure_channel(target, options=options) as console:
            stream = inventory_pb2_grpc.InventoryServiceStub(console).Watch(
                inventory_pb2.WatchRequest()
            )
            view = FleetView()
            while not view.ready:
                delta = await asyncio.wait_for(stream.read(), 30)
                assert isinstance(delta, inventory_pb2.InventoryDelta)
                view.apply(delta)
            assert len(view.nodes) == NODES
            # The console stops reading while every node keeps reporting.
            loop = asyncio.get_running_loop()
            until = loop.time() + PAUSE
            while loop.time() < until:
                await relay.round()
                await asyncio.sleep(0.3)
            assert relay.acked >= 4 * NODES  # ingest went on: at least three rounds more
            newest = relay.reports[-1].sequence
            # It reads again: deltas until the newest state has arrived, and no snapshot.
            snapshots = 0
            while min(n.last_sequence for n in view.nodes.values()) < newest:
                delta = await asyncio.wait_for(stream.read(), 30)
                assert isinstance(delta, inventory_pb2.InventoryDelta)
                snapshots += delta.snapshot
                view.apply(delta)
            stream.cancel()
    assert snapshots == 0
    assert hub.watchers.snapshots == 1
    assert hub.watchers.coalesced > 0
