"""A node's division, site and cluster come from its registration (the fleet documents), not
from what its reports say; a capacity jump is an event an operator sees."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from console.documents import load_fleet
from console.hub.config import HubConfig
from console.hub.fleet.claims import CAPACITY_JUMP
from console.hub.server import Hub
from console.model.fleet import Fleet
from console.simulate.nodes import sim_node
from console.store import SqliteStore
from tongchou.v1 import agent_pb2

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "guangdong"
CONNECT = "/tongchou.v1.AgentService/Connect"


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return load_fleet([SAMPLE])


@pytest.fixture
async def hub(tmp_path: Path, fleet: Fleet) -> AsyncIterator[Hub]:
    config = HubConfig(listen="127.0.0.1:0", metrics_listen="", report_interval=0.2)
    hub = Hub(config, SqliteStore(tmp_path / "hub.db"))
    hub.load_fleet(fleet)
    await hub.start()
    try:
        yield hub
    finally:
        await hub.shutdown()


def report_of(fleet: Fleet, name: str) -> agent_pb2.NodeReport:
    """The report a well-behaved agent of the declared node `name` sends."""
    return agent_pb2.NodeReport.FromString(sim_node(fleet, fleet.nodes[name]).report())


async def send(hub: Hub, *reports: agent_pb2.NodeReport) -> grpc.StatusCode:
    """Sends the reports on one stream; OK when each was acknowledged."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{hub.port}") as channel:
        call = channel.stream_stream(
            CONNECT,
            request_serializer=agent_pb2.NodeReport.SerializeToString,
            response_deserializer=agent_pb2.ReportAck.FromString,
        )()
        try:
            for report in reports:
                await call.write(report)
                await call.read()
        except grpc.aio.AioRpcError as err:
            code = err.code()
            assert code is not None
            return code
        code = await call.code() if call.done() else grpc.StatusCode.OK
        call.cancel()
        return code


def shenzhen_node(fleet: Fleet) -> str:
    site = next(s for s in fleet.sites.values() if s.division.startswith("4403"))
    cluster = next(c for c in fleet.clusters.values() if c.site == site.name)
    return next(n.name for n in fleet.nodes.values() if n.cluster == cluster.name)


def guangzhou_node(fleet: Fleet) -> str:
    site = next(s for s in fleet.sites.values() if s.division.startswith("4401"))
    cluster = next(c for c in fleet.clusters.values() if c.site == site.name)
    return next(n.name for n in fleet.nodes.values() if n.cluster == cluster.name)


async def test_a_node_claiming_another_citys_place_is_refused(hub: Hub, fleet: Fleet) -> None:
    gz = report_of(fleet, guangzhou_node(fleet))
    sz = report_of(fleet, shenzhen_node(fleet))
    for field in ("division", "site", "cluster"):
        forged = agent_pb2.NodeReport()
        forged.CopyFrom(gz)
        setattr(forged.identity, field, getattr(sz.identity, field))
        if field == "division":
            forged.identity.level = sz.identity.level
        assert await send(hub, forged) == grpc.StatusCode.PERMISSION_DENIED
    assert gz.identity.node not in hub.inventory.nodes
    assert hub.metrics.denied.labels("claim_mismatch")._value.get() == 3
    assert await send(hub, gz) == grpc.StatusCode.OK
    assert hub.inventory.nodes[gz.identity.node].identity.division == gz.identity.division


async def test_an_undeclared_node_still_reports(hub: Hub, fleet: Fleet) -> None:
    report = report_of(fleet, guangzhou_node(fleet))
    report.identity.node = "not-in-the-documents"
    assert await send(hub, report) == grpc.StatusCode.OK


async def test_a_capacity_jump_is_an_event(hub: Hub, fleet: Fleet) -> None:
    report = report_of(fleet, guangzhou_node(fleet))
    declared = report.capacity.cpu_logical
    report.capacity.cpu_logical = 16_384
    assert CAPACITY_JUMP * declared < 16_384
    assert await send(hub, report) == grpc.StatusCode.OK
    events = [e for e in hub.inventory.events if e.kind == "capacity"]
    assert len(events) == 1
    assert f"cpu {declared} → 16384 cores" in events[0].message
    assert hub.metrics.capacity_jumps._value.get() == 1
