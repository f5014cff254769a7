"""The hub's side of relays, in process over a real gRPC socket: a batch taken in one pass,
repeats skipped, gaps and drops counted, bad reports refused in the ack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from agent.collect import Collector
from agent.config import AgentConfig
from agent.report import ReportBuilder
from console.documents import load_fleet
from console.hub.config import HubConfig
from console.hub.server import Hub
from console.store import SqliteStore
from tests.relay.conftest import FLEET
from tongchou.v1 import agent_pb2, relay_pb2


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    fleet_file = tmp_path / "fleet.yaml"
    fleet_file.write_text(FLEET, encoding="utf-8")
    config = HubConfig(listen="127.0.0.1:0", metrics_listen="", report_interval=0.2)
    hub = Hub(config, SqliteStore(tmp_path / "hub.db"), fleet=load_fleet([fleet_file]))
    await hub.start()
    try:
        yield hub
    finally:
        await hub.shutdown()


def builder(
    node: str, cluster: str = "a1", site: str = "site-a", division: str = "440100"
) -> ReportBuilder:
    config = AgentConfig(
        node=node, division=division, level="city", site=site, cluster=cluster,
        provider="on-prem", mlps_level=3, insecure=True,
    )  # fmt: skip
    return ReportBuilder(config, Collector())


class Forwarder:
    """One RelayService stream, batch by batch."""

    def __init__(self, channel: grpc.aio.Channel, site: str) -> None:
        self.call = channel.stream_stream(
            "/tongchou.v1.RelayService/Forward",
            request_serializer=relay_pb2.RelayBatch.SerializeToString,
            response_deserializer=relay_pb2.RelayAck.FromString,
        )()
        self.site = site
        self.batch = 0

    async def send(
        self, reports: list[agent_pb2.NodeReport], dropped: int = 0
    ) -> relay_pb2.RelayAck:
        self.batch += 1
        batch = relay_pb2.RelayBatch(site=self.site, run_id="run", batch=self.batch)
        batch.reports.extend(reports)
        batch.dropped_total = dropped
        await self.call.write(batch)
        ack = await self.call.read()
        assert isinstance(ack, relay_pb2.RelayAck)
        return ack


def value(hub: Hub, name: str, **labels: str) -> float:
    got = hub.metrics.registry.get_sample_value(name, labels)
    return 0.0 if got is None else got


async def test_a_batch_is_taken_repeats_skipped_and_gaps_counted(hub: Hub) -> None:
    a1, a2 = builder("a-1"), builder("a-2")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{hub.port}") as channel:
        relay = Forwarder(channel, "site-a")
        first = [a1.next(), a2.next(), a1.next()]
        ack = await relay.send(first)
        assert (ack.batch, ack.accepted, list(ack.refusals)) == (1, 3, [])
        assert ack.report_interval.ToNanoseconds() == 200_000_000
        assert hub.inventory.nodes["a-1"].report.sequence == 2
        assert hub.inventory.nodes["a-1"].relay == "site-a"
        ack = await relay.send(first)  # sent again after a reconnect
        assert ack.accepted == 3
        assert value(hub, "tongchou_hub_relay_reports_duplicate_total") == 3
        a1.next(), a1.next()  # two reports of a-1 lost on the way
        ack = await relay.send([a1.next()], dropped=2)
        assert ack.accepted == 1
    assert hub.inventory.nodes["a-1"].report.sequence == 5
    assert value(hub, "tongchou_hub_relay_reports_missing_total", site="site-a") == 2
    assert value(hub, "tongchou_hub_relay_reports_dropped_total", site="site-a") == 2
    assert value(hub, "tongchou_hub_reports_received_total") == 7
    events = {(e.kind, e.node): e.message for e in hub.inventory.events}
    assert events["registered", "a-1"].endswith("through the relay at site-a")
    assert "dropped 2 reports" in events["relay_dropped", "site-a"]


async def test_bad_and_foreign_reports_are_refused_and_the_rest_taken(hub: Hub) -> None:
    bad = builder("a-3").next()
    bad.usage.cpu_ratio = 3.0
    foreign = builder("b-1", cluster="b1", site="site-b").next()
    liar = builder("b-2", cluster="b1", site="site-a").next()  # b1 is at site-b
    good = builder("a-4").next()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{hub.port}") as channel:
        ack = await Forwarder(channel, "site-a").send([bad, foreign, liar, good])
    refusals = {r.node: r for r in ack.refusals}
    assert ack.accepted == 1 and set(refusals) == {"a-3", "b-1", "b-2"}
    assert refusals["a-3"].code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "cpu_ratio" in refusals["a-3"].message
    assert refusals["b-2"].code == grpc.StatusCode.PERMISSION_DENIED.value[0]
    assert "(site site-b)" in refusals["b-2"].message
    assert set(hub.inventory.nodes) == {"a-4"}
    assert value(hub, "tongchou_hub_denied_total", reason="relay_site") == 2


async def test_a_relay_cannot_move_a_node_to_another_division(hub: Hub) -> None:
    """The relay's own site, but a division the node's registration does not give it: refused
    and audited as for a direct stream (the claims are the registration's, not the report's)."""
    moved = builder("a-5", division="440300").next()  # Shenzhen
    async with grpc.aio.insecure_channel(f"127.0.0.1:{hub.port}") as channel:
        ack = await Forwarder(channel, "site-a").send([moved, builder("a-6").next()])
    (refusal,) = ack.refusals
    assert refusal.node == "a-5" and refusal.code == grpc.StatusCode.PERMISSION_DENIED.value[0]
    assert "division '440300' (registered in its fleet documents: '440100')" in refusal.message
    assert set(hub.inventory.nodes) == {"a-6"}
    assert value(hub, "tongchou_hub_denied_total", reason="claim_mismatch") == 1


async def test_a_batch_that_does_not_parse_ends_the_stream(hub: Hub) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{hub.port}") as channel:
        call: grpc.aio.StreamStreamCall[bytes, bytes] = channel.stream_stream(
            "/tongchou.v1.RelayService/Forward"
        )()
        await call.write(b"\xff\xff\xff")
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call.read()
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a valid RelayBatch" in (err.value.details() or "")


async def test_a_node_moving_from_a_direct_stream_to_a_relay_is_an_event(hub: Hub) -> None:
    a5 = builder("a-5")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{hub.port}") as channel:
        direct: grpc.aio.StreamStreamCall[Any, agent_pb2.ReportAck] = channel.stream_stream(
            "/tongchou.v1.AgentService/Connect",
            request_serializer=agent_pb2.NodeReport.SerializeToString,
            response_deserializer=agent_pb2.ReportAck.FromString,
        )()
        await direct.write(a5.next())
        assert isinstance(await direct.read(), agent_pb2.ReportAck)
        direct.cancel()
        assert hub.inventory.nodes["a-5"].relay == ""
        ack = await Forwarder(channel, "site-a").send([a5.next()])
    assert ack.accepted == 1
    assert hub.inventory.nodes["a-5"].relay == "site-a"
    routes = [e.message for e in hub.inventory.events if e.kind == "route"]
    assert routes == ["reports through the relay at site-a"]
