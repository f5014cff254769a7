"""Security tests: a CA in a temporary directory, and a hub on loopback running mutual TLS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from agent.collect import Collector
from agent.config import AgentConfig
from agent.report import ReportBuilder
from console.hub.config import HubConfig
from console.hub.server import Hub
from console.security.pki import CertificateAuthority, identity_of
from console.security.tls import TlsFiles
from console.store import SqliteStore
from console.store.credentials import Credentials
from tongchou.divisions import level_of
from tongchou.v1 import agent_pb2


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return CertificateAuthority.init(tmp_path / "ca")


def client_tls(ca: CertificateAuthority, kind: str, name: str, **kw: object) -> TlsFiles:
    issued = ca.issue(kind, name, **kw)  # type: ignore[arg-type]
    return TlsFiles(ca.cert_pem, issued.cert_pem, issued.key_pem)


@pytest.fixture
async def tls_hub(tmp_path: Path, ca: CertificateAuthority) -> AsyncIterator[Hub]:
    hub_cert = ca.issue("hub", "hub")
    config = HubConfig(
        listen="127.0.0.1:0",
        metrics_listen="",
        report_interval=0.2,
        tls=TlsFiles(ca.cert_pem, hub_cert.cert_pem, hub_cert.key_pem),
    )
    hub = Hub(config, SqliteStore(tmp_path / "hub.db"))
    await hub.start()
    try:
        yield hub
    finally:
        await hub.shutdown()


def report_for(node: str, division: str = "440106") -> agent_pb2.NodeReport:
    config = AgentConfig(
        node=node,
        division=division,
        level=level_of(division).value,
        site="gz-tianhe-dc",
        cluster="gz-tianhe-a",
        provider="on-prem",
        mlps_level=3,
        insecure=True,
    )
    return ReportBuilder(config, Collector()).next()


async def send_one(
    port: int, credentials: grpc.ChannelCredentials | None, node: str, division: str = "440106"
) -> agent_pb2.ReportAck:
    """Opens a stream, sends one report of `node`, and returns the ack (or raises the error)."""
    target = f"127.0.0.1:{port}"
    channel = (
        grpc.aio.insecure_channel(target)
        if credentials is None
        else grpc.aio.secure_channel(target, credentials)
    )
    async with channel:
        call = channel.stream_stream(
            "/tongchou.v1.AgentService/Connect",
            request_serializer=agent_pb2.NodeReport.SerializeToString,
            response_deserializer=agent_pb2.ReportAck.FromString,
        )()
        await call.write(report_for(node, division))
        ack = await asyncio.wait_for(call.read(), 10)
        call.cancel()
        if not isinstance(ack, agent_pb2.ReportAck):
            await call.wait_for_connection()
            raise AssertionError(f"stream ended without an ack: {await call.code()}")
        return ack


def user_tls(ca: CertificateAuthority, credentials: Credentials, name: str) -> TlsFiles:
    """A user certificate recorded in the store and bound to the user's current account."""
    issued = ca.issue("user", name)
    ident = identity_of(issued.cert_pem)
    user = credentials.user(name)
    assert user is not None, name
    credentials.record_certificate(
        ident.serial,
        "user",
        name,
        ident.not_before.timestamp(),
        ident.not_after.timestamp(),
        owner=user.id,
    )
    return TlsFiles(ca.cert_pem, issued.cert_pem, issued.key_pem)
