"""Mutual TLS through a relay: the relay checks each node's certificate, the hub checks the
relay's, and a relay vouches only for its own site's nodes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from agent.collect import Collector
from agent.config import AgentConfig
from agent.report import ReportBuilder
from console.documents import load_fleet
from console.hub.config import HubConfig
from console.hub.server import Hub
from console.relay.server import Relay, RelayConfig
from console.relay.upstream import UpstreamSettings
from console.security.pki import CertificateAuthority
from console.security.tls import TlsFiles
from console.store import SqliteStore
from tests.e2e.waiting import eventually
from tests.relay.conftest import FLEET
from tongchou.v1 import agent_pb2, relay_pb2


def tls(ca: CertificateAuthority, kind: str, name: str) -> TlsFiles:
    issued = ca.issue(kind, name, hosts=("127.0.0.1",) if kind in ("hub", "relay") else ())
    return TlsFiles(ca.cert_pem, issued.cert_pem, issued.key_pem)


def report(node: str, cluster: str, site: str) -> agent_pb2.NodeReport:
    config = AgentConfig(
        node=node, division="440100", level="city", site=site, cluster=cluster,
        provider="on-prem", mlps_level=3, insecure=True,
    )  # fmt: skip
    return ReportBuilder(config, Collector()).next()


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return CertificateAuthority.init(tmp_path / "ca")


@pytest.fixture
async def hub(tmp_path: Path, ca: CertificateAuthority) -> AsyncIterator[Hub]:
    fleet_file = tmp_path / "fleet.yaml"
    fleet_file.write_text(FLEET, encoding="utf-8")
    config = HubConfig(
        listen="127.0.0.1:0", metrics_listen="", report_interval=0.2, tls=tls(ca, "hub", "hub")
    )
    hub = Hub(config, SqliteStore(tmp_path / "hub.db"), fleet=load_fleet([fleet_file]))
    await hub.start()
    try:
        yield hub
    finally:
        await hub.shutdown()


async def relay_for(hub: Hub, ca: CertificateAuthority, site: str) -> Relay:
    files = tls(ca, "relay", site)
    settings = UpstreamSettings(
        hub=f"127.0.0.1:{hub.port}",
        site=site,
        credentials=files.channel_credentials(),
        batch_wait=0.05,
    )
    relay = Relay(RelayConfig(listen="127.0.0.1:0", upstream=settings, tls=files))
    await relay.start()
    return relay


async def send(
    port: int, files: TlsFiles, reports: list[agent_pb2.NodeReport]
) -> list[agent_pb2.ReportAck]:
    """Writes the reports on one stream, one after another; returns the acks (or raises)."""
    async with grpc.aio.secure_channel(f"127.0.0.1:{port}", files.channel_credentials()) as ch:
        call = ch.stream_stream(
            "/tongchou.v1.AgentService/Connect",
            request_serializer=agent_pb2.NodeReport.SerializeToString,
            response_deserializer=agent_pb2.ReportAck.FromString,
        )()
        acks = []
        for one in reports:
            await call.write(one)
            ack = await asyncio.wait_for(call.read(), 10)
            if not isinstance(ack, agent_pb2.ReportAck):
                raise AssertionError(f"stream ended: {await call.code()} {await call.details()}")
            acks.append(ack)
            await asyncio.sleep(0.3)
        call.cancel()
        return acks


async def test_a_node_reports_through_its_sites_relay(hub: Hub, ca: CertificateAuthority) -> None:
    relay = await relay_for(hub, ca, "site-a")
    try:
        await send(relay.port, tls(ca, "node", "a-1"), [report("a-1", "a1", "site-a")])

        async def arrived() -> str | None:
            entry = hub.inventory.nodes.get("a-1")
            return entry.relay if entry is not None else None

        assert await eventually(arrived, 10, "a-1 at the hub") == "site-a"
    finally:
        await relay.shutdown()


async def test_the_relay_checks_the_nodes_certificate(hub: Hub, ca: CertificateAuthority) -> None:
    relay = await relay_for(hub, ca, "site-a")
    try:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await send(relay.port, tls(ca, "node", "a-2"), [report("a-3", "a1", "site-a")])
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "for node a-2" in (err.value.details() or "")
    finally:
        await relay.shutdown()
    assert "a-3" not in hub.inventory.nodes


async def test_a_relay_cannot_vouch_for_another_sites_node(
    hub: Hub, ca: CertificateAuthority
) -> None:
    relay = await relay_for(hub, ca, "site-b")
    try:
        reports = [report("a-4", "a1", "site-a"), report("a-4", "a1", "site-a")]
        reports[1].sequence = 2
        # the node even claims site-b: the fleet documents place its cluster at site-a
        lying = [report("a-5", "a1", "site-b") for _ in range(3)]
        for i, one in enumerate(lying):
            one.sequence = i + 1
        for node, batch in (("a-4", reports), ("a-5", lying)):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await send(relay.port, tls(ca, "node", node), batch * 2)
            assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert "relay of site site-b cannot vouch for node" in (err.value.details() or "")
    finally:
        await relay.shutdown()
    assert "a-4" not in hub.inventory.nodes and "a-5" not in hub.inventory.nodes
    assert hub.metrics.denied.labels("relay_site")._value.get() >= 2


async def test_only_a_relay_certificate_may_forward(hub: Hub, ca: CertificateAuthority) -> None:
    files = tls(ca, "node", "a-1")
    batch = relay_pb2.RelayBatch(site="site-a", run_id="r", batch=1)
    batch.reports.append(report("a-1", "a1", "site-a"))
    async with grpc.aio.secure_channel(
        f"127.0.0.1:{hub.port}", files.channel_credentials()
    ) as channel:
        call = channel.stream_stream(
            "/tongchou.v1.RelayService/Forward",
            request_serializer=relay_pb2.RelayBatch.SerializeToString,
            response_deserializer=relay_pb2.RelayAck.FromString,
        )()
        await call.write(batch)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call.read()
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "cannot forward reports" in (err.value.details() or "")
    assert "a-1" not in hub.inventory.nodes
