"""Join tokens and certificate renewal over real TLS on loopback."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from agent import enroll
from agent.collect import Collector
from agent.config import AgentConfig
from agent.daemon import Agent
from agent.report import ReportBuilder
from agent.transport import RpcError
from console.hub.config import HubConfig
from console.hub.server import Hub
from console.security.pki import CertificateAuthority, identity_of
from console.security.tls import TlsFiles
from console.store import SqliteStore

from .conftest import client_tls, send_one

LIFETIME_DAYS = 6 / 86400  # six seconds: renewal is due after four


@pytest.fixture
async def join_hub(tmp_path: Path, ca: CertificateAuthority) -> AsyncIterator[Hub]:
    hub_cert = ca.issue("hub", "hub")
    config = HubConfig(
        listen="127.0.0.1:0",
        metrics_listen="",
        report_interval=0.2,
        tls=TlsFiles(ca.cert_pem, hub_cert.cert_pem, hub_cert.key_pem),
        ca_dir=tmp_path / "ca",
        token_listen="127.0.0.1:0",
        node_cert_days=LIFETIME_DAYS,
    )
    hub = Hub(config, SqliteStore(tmp_path / "hub.db"))
    await hub.start()
    try:
        yield hub
    finally:
        await hub.shutdown()


def join_address(hub: Hub) -> str:
    return f"127.0.0.1:{hub.token_port}"


def audit_actions(hub: Hub) -> list[tuple[str, str]]:
    assert hub.audit is not None
    hub.audit_flush()
    return [(r.action, r.outcome) for r in hub.audit.records()]


async def test_a_token_joins_once_and_only_once(join_hub: Hub, ca: CertificateAuthority) -> None:
    assert join_hub.credentials is not None
    token = join_hub.credentials.create_token("node-j", ttl=60)
    cert, key = await enroll.join(join_address(join_hub), ca.cert_pem, token, "node-j")
    assert identity_of(cert).name == "node-j"
    creds = grpc.ssl_channel_credentials(ca.cert_pem, key, cert)
    assert (await send_one(join_hub.port, creds, "node-j")).accepted
    with pytest.raises(RpcError) as err:
        await enroll.join(join_address(join_hub), ca.cert_pem, token, "node-j")
    assert err.value.code == "UNAUTHENTICATED"
    assert "already used" in err.value.details
    assert audit_actions(join_hub) == [("node.join", "ok"), ("node.join", "unauthenticated")]


async def test_expired_unknown_and_wrong_node_tokens_are_refused(
    join_hub: Hub, ca: CertificateAuthority
) -> None:
    assert join_hub.credentials is not None
    expired = join_hub.credentials.create_token("node-j", ttl=60, now=time.time() - 120)
    other = join_hub.credentials.create_token("node-k", ttl=60)
    cases = [
        (expired, "node-j", "UNAUTHENTICATED", "expired"),
        ("abcd1234.not-a-secret", "node-j", "UNAUTHENTICATED", "not known"),
        ("garbage", "node-j", "UNAUTHENTICATED", "malformed"),
        (other, "node-j", "PERMISSION_DENIED", "is for node node-k"),
    ]
    for token, node, code, text in cases:
        with pytest.raises(RpcError) as err:
            await enroll.join(join_address(join_hub), ca.cert_pem, token, node)
        assert err.value.code == code, token
        assert text in err.value.details


async def test_token_port_refuses_a_hub_from_another_ca(
    join_hub: Hub, ca: CertificateAuthority, tmp_path: Path
) -> None:
    assert join_hub.credentials is not None
    token = join_hub.credentials.create_token("node-j", ttl=60)
    other = CertificateAuthority.init(tmp_path / "other")
    with pytest.raises(RpcError) as err:
        await enroll.join(join_address(join_hub), other.cert_pem, token, "node-j")
    assert err.value.code == "UNAVAILABLE"


async def test_only_a_node_renews_and_only_its_own_name(
    join_hub: Hub, ca: CertificateAuthority
) -> None:
    # a one-minute certificate issued 40 s ago: in the second half of its life
    started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=40)
    node = client_tls(ca, "node", "node-r", days=60 / 86400, not_before=started)
    address = f"127.0.0.1:{join_hub.port}"
    with pytest.raises(RpcError) as err:
        await enroll.renew(address, ca.cert_pem, node.cert, node.key, "node-other")
    assert err.value.code == "INVALID_ARGUMENT"
    cert, _key = await enroll.renew(address, ca.cert_pem, node.cert, node.key, "node-r")
    assert identity_of(cert).name == "node-r"
    assert identity_of(cert).serial != identity_of(node.cert).serial
    user = client_tls(ca, "user", "ops")
    with pytest.raises(RpcError) as err:
        await enroll.renew(address, ca.cert_pem, user.cert, user.key, "ops")
    assert err.value.code == "PERMISSION_DENIED"


async def test_rotation_keeps_reports_flowing(
    join_hub: Hub, ca: CertificateAuthority, tmp_path: Path
) -> None:
    d = tmp_path / "node"
    d.mkdir()
    ca.issue("node", "node-rot", days=LIFETIME_DAYS).write(d, "node")
    (d / "ca.crt").write_bytes(ca.cert_pem)
    first_serial = identity_of((d / "node.crt").read_bytes()).serial
    config = AgentConfig(
        hub=f"127.0.0.1:{join_hub.port}", node="node-rot", division="440106", level="county",
        site="gz-tianhe-dc", cluster="gz-tianhe-a", provider="on-prem", mlps_level=3,
        interval=0.2, tls_ca=str(d / "ca.crt"), tls_cert=str(d / "node.crt"),
        tls_key=str(d / "node.key"), renew_check=0.2,
    )  # fmt: skip
    stop = asyncio.Event()
    agent = Agent(config, ReportBuilder(config, Collector()), stop=stop, rng=random.Random(1))
    task = asyncio.create_task(agent.run())
    try:
        sequences: list[int] = []
        deadline = time.monotonic() + 20
        # past the first certificate's expiry (6 s) and into the renewed one's life
        while time.monotonic() < deadline:
            entry = join_hub.inventory.nodes.get("node-rot")
            if entry is not None:
                sequences.append(entry.report.sequence)
            if agent.metrics.renewals.value >= 2:
                break
            await asyncio.sleep(0.5)
        assert agent.metrics.renewals.value >= 2, "renewed twice within 20 s"
        assert identity_of((d / "node.crt").read_bytes()).serial != first_serial
        assert agent.metrics.reconnects.value == 0, "the stream never dropped"
        assert sequences == sorted(sequences) and sequences[-1] > sequences[0]
        # the renewed certificate opens new streams after the first one has expired
        creds = TlsFiles.in_dir(d, "node").channel_credentials()
        assert (await send_one(join_hub.port, creds, "node-rot")).accepted
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
