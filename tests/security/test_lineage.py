"""Certificates as identities against a real mutual-TLS hub: every serial recorded with its
lineage, renewal only late in life and at a bounded rate, revocation of a whole lineage by
node, user or serial, and user certificates bound to the account they were issued for."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from agent import enroll
from agent.transport import RpcError
from console.client import HubClient
from console.hub.config import HubConfig
from console.hub.server import Hub
from console.security.pki import CertificateAuthority, identity_of
from console.security.tls import TlsFiles
from console.store import SqliteStore
from console.store.credentials import User

from .conftest import send_one
from .test_user_cli import tongchou

DAY = dt.timedelta(days=1)


@pytest.fixture
async def hub(tmp_path: Path, ca: CertificateAuthority) -> AsyncIterator[Hub]:
    hub_cert = ca.issue("hub", "hub")
    config = HubConfig(
        listen="127.0.0.1:0",
        metrics_listen="",
        report_interval=0.2,
        tls=TlsFiles(ca.cert_pem, hub_cert.cert_pem, hub_cert.key_pem),
        ca_dir=tmp_path / "ca",
        token_listen="127.0.0.1:0",
    )
    out = Hub(config, SqliteStore(tmp_path / "hub.db"))
    await out.start()
    try:
        yield out
    finally:
        await out.shutdown()


def late_in_life(ca: CertificateAuthority, node: str) -> TlsFiles:
    """A 10-day node certificate issued 6 days ago: due for renewal."""
    start = dt.datetime.now(dt.UTC) - 6 * DAY
    issued = ca.issue("node", node, days=10, not_before=start)
    return TlsFiles(ca.cert_pem, issued.cert_pem, issued.key_pem)


def creds(ca: CertificateAuthority, cert: bytes, key: bytes) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(ca.cert_pem, key, cert)


async def code_of(call: object) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call  # type: ignore[misc]
    code = err.value.code()
    assert code is not None
    return code


def records(hub: Hub, action: str) -> list[tuple[str, str, str]]:
    assert hub.audit is not None
    hub.audit_flush()
    return [(r.object, r.outcome, r.detail) for r in hub.audit.records() if r.action == action]


async def test_a_stolen_certificate_cannot_outlive_revocation_by_renewing(
    hub: Hub, ca: CertificateAuthority, tmp_path: Path
) -> None:
    stolen = late_in_life(ca, "node-s")
    address = f"127.0.0.1:{hub.port}"
    renewed, key = await enroll.renew(address, ca.cert_pem, stolen.cert, stolen.key, "node-s")
    for _ in range(2):  # again at once: the lineage was just renewed
        with pytest.raises(RpcError) as err:
            await enroll.renew(address, ca.cert_pem, stolen.cert, stolen.key, "node-s")
        assert err.value.code == "RESOURCE_EXHAUSTED"
    assert (await send_one(hub.port, creds(ca, renewed, key), "node-s")).accepted

    # every issued serial is recorded, with its lineage, and audited with the serial
    assert hub.credentials is not None
    first, second = identity_of(stolen.cert).serial, identity_of(renewed).serial
    record = hub.credentials.certificate(second)
    assert record is not None
    assert (record.lineage, record.parent) == (f"{first:x}", f"{first:x}")
    assert hub.trail is not None
    hub.trail.refusals.flush(everything=True)  # refusals are counted per peer and minute
    renewals = records(hub, "cert.renew")
    assert [(o, out) for o, out, _d in renewals] == [("node/node-s", "ok")] + [
        ("node/node-s", "refused")
    ] * 2
    assert "1 more like this" in renewals[2][2]
    assert f"serial {second:x}" in renewals[0][2] and f"lineage {first:x}" in renewals[0][2]

    # the admin revokes by node name, without the certificate file
    store = str(tmp_path / "hub.db")
    assert tongchou("ca", "revoke", "--store", store, "--node", "node-s", "--reason", "stolen") == 0
    assert await code_of(send_one(hub.port, creds(ca, renewed, key), "node-s")) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    with pytest.raises(RpcError) as err:
        await enroll.renew(address, ca.cert_pem, renewed, key, "node-s")
    assert err.value.code == "PERMISSION_DENIED"
    assert "revoked lineage" in err.value.details


async def test_revoking_one_serial_revokes_its_renewals_and_ancestors(
    hub: Hub, ca: CertificateAuthority, tmp_path: Path
) -> None:
    old = late_in_life(ca, "node-t")
    address = f"127.0.0.1:{hub.port}"
    renewed, key = await enroll.renew(address, ca.cert_pem, old.cert, old.key, "node-t")
    serial = f"{identity_of(old.cert).serial:x}"
    assert tongchou("ca", "revoke", "--store", str(tmp_path / "hub.db"), "--serial", serial) == 0
    for cert, k in ((renewed, key), (old.cert, old.key)):
        assert await code_of(send_one(hub.port, creds(ca, cert, k), "node-t")) == (
            grpc.StatusCode.PERMISSION_DENIED
        )
    unknown = ["ca", "revoke", "--store", str(tmp_path / "hub.db"), "--serial", "abc123"]
    assert tongchou(*unknown) == 2


async def test_renewal_only_in_the_second_half_of_life(hub: Hub, ca: CertificateAuthority) -> None:
    fresh = ca.issue("node", "node-f", days=10)
    with pytest.raises(RpcError) as err:
        await enroll.renew(
            f"127.0.0.1:{hub.port}", ca.cert_pem, fresh.cert_pem, fresh.key_pem, "node-f"
        )
    assert err.value.code == "FAILED_PRECONDITION"
    assert "second half of its life" in err.value.details
    assert [o for _n, o, _d in records(hub, "cert.renew")] == ["refused"]


async def test_join_records_the_serial(hub: Hub, ca: CertificateAuthority) -> None:
    assert hub.credentials is not None
    token = hub.credentials.create_token("node-j", ttl=60)
    cert, _key = await enroll.join(f"127.0.0.1:{hub.token_port}", ca.cert_pem, token, "node-j")
    serial = identity_of(cert).serial
    record = hub.credentials.certificate(serial)
    assert record is not None and (record.kind, record.name) == ("node", "node-j")
    [(obj, outcome, detail)] = records(hub, "node.join")
    assert (obj, outcome) == ("node/node-j", "ok")
    assert f"serial {serial:x}" in detail


async def test_a_wrong_node_or_badly_signed_request_does_not_burn_the_token(
    hub: Hub, ca: CertificateAuthority
) -> None:
    assert hub.credentials is not None
    token = hub.credentials.create_token("node-b", ttl=60)
    address = f"127.0.0.1:{hub.token_port}"
    with pytest.raises(RpcError) as err:
        await enroll.join(address, ca.cert_pem, token, "node-other")
    assert err.value.code == "PERMISSION_DENIED"
    _key, csr = enroll.key_and_csr("node-b")
    lines = csr.splitlines()
    body = "".join(lines[1:-1])
    tampered = body[:-12] + ("A" if body[-12] != "A" else "B") + body[-11:]  # the signature
    bad = (
        "\n".join(
            [lines[0], *(tampered[i : i + 64] for i in range(0, len(tampered), 64)), lines[-1]]
        )
        + "\n"
    )
    async with grpc.aio.secure_channel(address, grpc.ssl_channel_credentials(ca.cert_pem)) as ch:
        from tongchou.v1 import security_pb2, security_pb2_grpc

        stub = security_pb2_grpc.JoinServiceStub(ch)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.Join(security_pb2.JoinRequest(token=token, csr_pem=bad))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    cert, _ = await enroll.join(address, ca.cert_pem, token, "node-b")
    assert identity_of(cert).name == "node-b"


async def test_a_user_certificate_is_bound_to_its_account(
    hub: Hub, ca: CertificateAuthority, tmp_path: Path
) -> None:
    assert hub.credentials is not None
    store = str(tmp_path / "hub.db")
    hub.credentials.add_user(User("certuser", ("viewer",), ""))
    assert (
        tongchou(
            "ca",
            "issue",
            "--dir",
            str(tmp_path / "ca"),
            "--kind",
            "user",
            "--name",
            "certuser",
            "--store",
            store,
            "--out",
            str(tmp_path),
        )
        == 0
    )
    tls = TlsFiles.read(
        tmp_path / "ca" / "ca.crt", tmp_path / "certuser.crt", tmp_path / "certuser.key"
    )
    assert stat.S_IMODE(os.stat(tmp_path / "certuser.key").st_mode) == 0o600
    client = HubClient(f"127.0.0.1:{hub.port}", tls.channel_credentials())
    try:
        assert (await client.whoami()).roles == ["viewer"]
        assert tongchou("user", "delete", "--store", store, "--name", "certuser") == 0
        hub.credentials.add_user(User("certuser", ("operator",), ""))
        assert await code_of(client.whoami()) == grpc.StatusCode.UNAUTHENTICATED
    finally:
        await client.close()
    # a certificate made without the store is bound to no account
    loose = ca.issue("user", "certuser")
    client = HubClient(
        f"127.0.0.1:{hub.port}",
        grpc.ssl_channel_credentials(ca.cert_pem, loose.key_pem, loose.cert_pem),
    )
    try:
        assert await code_of(client.whoami()) == grpc.StatusCode.UNAUTHENTICATED
    finally:
        await client.close()
    no_store = ["ca", "issue", "--dir", str(tmp_path / "ca"), "--kind", "user", "--name", "x"]
    assert tongchou(*no_store) == 2


def test_a_key_reissued_over_a_readable_file_becomes_private(tmp_path: Path) -> None:
    ca = CertificateAuthority.init(tmp_path / "ca")
    key = tmp_path / "n1.key"
    key.write_text("old")
    key.chmod(0o644)
    ca.issue("node", "n1").write(tmp_path, "n1")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


async def test_an_open_stream_ends_when_its_lineage_is_revoked(
    hub: Hub, ca: CertificateAuthority, tmp_path: Path
) -> None:
    from tongchou.v1 import agent_pb2

    from .conftest import report_for

    hub.ingest.recheck_every = 0.2
    tls = late_in_life(ca, "node-o")
    async with grpc.aio.secure_channel(
        f"127.0.0.1:{hub.port}", creds(ca, tls.cert, tls.key)
    ) as channel:
        call = channel.stream_stream(
            "/tongchou.v1.AgentService/Connect",
            request_serializer=agent_pb2.NodeReport.SerializeToString,
            response_deserializer=agent_pb2.ReportAck.FromString,
        )()
        report = report_for("node-o")
        report.sequence = 1
        await call.write(report)
        ack = await call.read()
        assert isinstance(ack, agent_pb2.ReportAck) and ack.accepted
        store = str(tmp_path / "hub.db")
        assert tongchou("ca", "revoke", "--store", store, "--node", "node-o") == 0
        with pytest.raises(grpc.aio.AioRpcError) as err:
            for seq in range(2, 100):
                await asyncio.sleep(0.1)
                report.sequence = seq
                await call.write(report)
                await call.read()
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "revoked" in (err.value.details() or "")
