"""Agent ↔ hub mutual TLS on loopback: who may report, and as which node."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import grpc
import pytest

from console.hub.server import Hub
from console.security.pki import CertificateAuthority, identity_of
from tongchou.v1 import agent_pb2

from .conftest import client_tls, report_for, send_one


def denied(hub: Hub, reason: str) -> float:
    return (
        hub.metrics.registry.get_sample_value("tongchou_hub_denied_total", {"reason": reason})
        or 0.0
    )


async def test_node_with_its_own_certificate_reports(
    tls_hub: Hub, ca: CertificateAuthority
) -> None:
    creds = client_tls(ca, "node", "node-a").channel_credentials()
    ack = await send_one(tls_hub.port, creds, "node-a")
    assert ack.accepted
    assert "node-a" in tls_hub.inventory.nodes


async def test_node_a_cannot_report_as_node_b(tls_hub: Hub, ca: CertificateAuthority) -> None:
    creds = client_tls(ca, "node", "node-a").channel_credentials()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await send_one(tls_hub.port, creds, "node-b")
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "node-a" in (err.value.details() or "") and "node-b" in (err.value.details() or "")
    assert "node-b" not in tls_hub.inventory.nodes
    assert denied(tls_hub, "node_mismatch") == 1


async def test_user_and_simulator_certificates_are_not_nodes(
    tls_hub: Hub, ca: CertificateAuthority
) -> None:
    for kind in ("user", "simulator"):
        creds = client_tls(ca, kind, "someone").channel_credentials()
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await send_one(tls_hub.port, creds, "node-x")
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert denied(tls_hub, "not_a_node") == 2


@pytest.mark.parametrize("case", ["plaintext", "no client certificate", "other CA", "expired"])
async def test_refused_at_the_handshake(
    tls_hub: Hub, ca: CertificateAuthority, tmp_path: Path, case: str
) -> None:
    if case == "plaintext":
        creds = None
    elif case == "no client certificate":
        creds = grpc.ssl_channel_credentials(root_certificates=ca.cert_pem)
    elif case == "other CA":
        other = CertificateAuthority.init(tmp_path / "other")
        tls = client_tls(other, "node", "node-a")
        creds = grpc.ssl_channel_credentials(ca.cert_pem, tls.key, tls.cert)
    else:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
        creds = client_tls(ca, "node", "node-a", days=1, not_before=past).channel_credentials()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await send_one(tls_hub.port, creds, "node-a")
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "node-a" not in tls_hub.inventory.nodes


async def test_a_refused_node_is_in_the_audit_log(tls_hub: Hub, ca: CertificateAuthority) -> None:
    creds = client_tls(ca, "node", "node-a").channel_credentials()
    with pytest.raises(grpc.aio.AioRpcError):
        await send_one(tls_hub.port, creds, "node-b")
    assert tls_hub.audit is not None
    tls_hub.audit_flush()
    records = list(tls_hub.audit.records())
    assert [(r.actor, r.action, r.object, r.outcome) for r in records] == [
        ("node:node-a", "agent.connect", "node/node-b", "denied")
    ]
    assert tls_hub.audit.verify().ok


async def test_a_flooding_agent_is_cut_off(tls_hub: Hub, ca: CertificateAuthority) -> None:
    tls_hub.ingest.max_stream_rate = 5.0
    creds = client_tls(ca, "node", "node-f").channel_credentials()
    async with grpc.aio.secure_channel(f"127.0.0.1:{tls_hub.port}", creds) as channel:
        call = channel.stream_stream(
            "/tongchou.v1.AgentService/Connect",
            request_serializer=agent_pb2.NodeReport.SerializeToString,
            response_deserializer=agent_pb2.ReportAck.FromString,
        )()
        report = report_for("node-f")
        with pytest.raises(grpc.aio.AioRpcError) as err:
            for sequence in range(1, 100):
                report.sequence = sequence
                await call.write(report)
                await call.read()
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert 10 <= sequence < 100  # the burst (twice the rate) passed, then the stream was cut
    rejected = tls_hub.metrics.registry.get_sample_value(
        "tongchou_hub_reports_rejected_total", {"reason": "rate_limited"}
    )
    assert rejected == 1


async def test_a_revoked_certificate_is_refused(tls_hub: Hub, ca: CertificateAuthority) -> None:
    tls = client_tls(ca, "node", "node-v")
    assert (await send_one(tls_hub.port, tls.channel_credentials(), "node-v")).accepted
    assert tls_hub.credentials is not None
    assert tls_hub.credentials.revoke(identity_of(tls.cert).serial, "node-v", "stolen laptop")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await send_one(tls_hub.port, tls.channel_credentials(), "node-v")
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "revoked" in (err.value.details() or "")
    assert denied(tls_hub, "revoked") == 1
