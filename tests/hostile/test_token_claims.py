"""A node enrolled with a join token that names its division, site and cluster is bound to
them: a report that contradicts them is refused and audited, after a restart too."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from agent import enroll
from agent.collect import Collector
from agent.config import AgentConfig
from agent.report import ReportBuilder
from agent.transport import RpcError
from console.hub.config import HubConfig
from console.hub.server import Hub
from console.security.pki import CertificateAuthority
from console.security.tls import TlsFiles
from console.store import SqliteStore
from tests.hostile.secure_hub import sqlite_of
from tongchou.cli import main
from tongchou.divisions import level_of
from tongchou.v1 import agent_pb2

PLACE = ("440106", "gz-tianhe-dc", "gz-tianhe-a")


def tongchou(*args: str) -> int:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    return int(done.value.code or 0)


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return CertificateAuthority.init(tmp_path / "ca")


def start_hub(tmp_path: Path, ca: CertificateAuthority) -> Hub:
    cert = ca.issue("hub", "hub")
    config = HubConfig(
        listen="127.0.0.1:0",
        metrics_listen="",
        report_interval=0.2,
        tls=TlsFiles(ca.cert_pem, cert.cert_pem, cert.key_pem),
        ca_dir=tmp_path / "ca",
        token_listen="127.0.0.1:0",
    )
    return Hub(config, SqliteStore(tmp_path / "hub.db"))


@pytest.fixture
async def hub(tmp_path: Path, ca: CertificateAuthority) -> AsyncIterator[Hub]:
    hub = start_hub(tmp_path, ca)
    await hub.start()
    try:
        yield hub
    finally:
        await hub.shutdown()


def report(node: str, division: str, site: str, cluster: str) -> agent_pb2.NodeReport:
    config = AgentConfig(
        node=node,
        division=division,
        level=level_of(division).value,
        site=site,
        cluster=cluster,
        provider="on-prem",
        mlps_level=3,
        insecure=True,
    )
    return ReportBuilder(config, Collector()).next()


async def send(hub: Hub, creds: grpc.ChannelCredentials, sent: agent_pb2.NodeReport) -> str:
    """The status of a stream that sends one report: OK when it was acknowledged."""
    async with grpc.aio.secure_channel(f"127.0.0.1:{hub.port}", creds) as channel:
        call = channel.stream_stream(
            "/tongchou.v1.AgentService/Connect",
            request_serializer=agent_pb2.NodeReport.SerializeToString,
            response_deserializer=agent_pb2.ReportAck.FromString,
        )()
        try:
            await call.write(sent)
            await asyncio.wait_for(call.read(), 10)
        except grpc.aio.AioRpcError as err:
            return f"{err.code().name}: {err.details()}"
        code = await call.code() if call.done() else grpc.StatusCode.OK
        call.cancel()
        return code.name


async def enrol(
    hub: Hub, ca: CertificateAuthority, token: str, node: str
) -> grpc.ChannelCredentials:
    cert, key = await enroll.join(f"127.0.0.1:{hub.token_port}", ca.cert_pem, token, node)
    return grpc.ssl_channel_credentials(ca.cert_pem, key, cert)


def token_for(hub: Hub, capsys: pytest.CaptureFixture[str], node: str, *place: str) -> str:
    names = ("--division", "--site", "--cluster") if place else ()
    flags = [f for pair in zip(names, place, strict=True) for f in pair]
    assert isinstance(hub.store, SqliteStore)
    store = str(hub.store.path)
    assert tongchou("token", "create", "--store", store, "--node", node, *flags) == 0
    return capsys.readouterr().out.strip()


def denials(hub: Hub) -> list[str]:
    assert hub.audit is not None
    hub.audit_flush()
    return [
        r.detail
        for r in hub.audit.records()
        if r.action == "agent.report" and r.outcome == "denied"
    ]


async def test_a_token_binds_the_node_to_its_place(
    tmp_path: Path, ca: CertificateAuthority, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = start_hub(tmp_path, ca)
    await hub.start()
    try:
        token = token_for(hub, capsys, "edge-1", *PLACE)
        creds = await enrol(hub, ca, token, "edge-1")
        division, site, cluster = PLACE
        assert await send(hub, creds, report("edge-1", *PLACE)) == "OK"
        forged = [
            report("edge-1", "440305", "sz-nanshan-dc", "sz-nanshan-a"),  # another city
            report("edge-1", division, site, "gz-tianhe-b"),  # another cluster
            report("edge-1", division, "gz-other-dc", cluster),  # another site
        ]
        for sent in forged:
            answer = await send(hub, creds, sent)
            assert answer.startswith("PERMISSION_DENIED"), answer
            assert "registered in its join token" in answer
        assert hub.metrics.denied.labels("claim_mismatch")._value.get() == 3
        assert len(denials(hub)) == 3
        assert "division '440305' (registered in its join token: '440106')" in denials(hub)[0]
        assert hub.inventory.nodes["edge-1"].identity.cluster == cluster
    finally:
        await hub.shutdown()
    again = start_hub(tmp_path, ca)  # the binding is in the store: it holds after a restart
    await again.start()
    try:
        answer = await send(again, creds, report("edge-1", "440305", "sz-nanshan-dc", "sz-a"))
        assert answer.startswith("PERMISSION_DENIED"), answer
        assert await send(again, creds, report("edge-1", *PLACE)) == "OK"
    finally:
        await again.shutdown()


async def test_a_token_without_a_place_binds_nothing(
    hub: Hub, ca: CertificateAuthority, capsys: pytest.CaptureFixture[str]
) -> None:
    bound = await enrol(hub, ca, token_for(hub, capsys, "edge-2", *PLACE), "edge-2")
    assert await send(hub, bound, report("edge-2", "440305", "sz-nanshan-dc", "sz-a")) != "OK"
    # joined again with a token naming no place: the node is no longer bound
    free = await enrol(hub, ca, token_for(hub, capsys, "edge-2"), "edge-2")
    assert await send(hub, free, report("edge-2", "440305", "sz-nanshan-dc", "sz-a")) == "OK"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--division", "440106", "--site", "gz-tianhe-dc"), "without --cluster"),
        (("--division", "44010", "--site", "s", "--cluster", "c"), "--division: '44010'"),
        (("--division", "990000", "--site", "s", "--cluster", "c"), "national division table"),
        (("--division", "440106", "--site", "s s", "--cluster", "c"), "--site: 's s'"),
    ],
)
def test_a_bad_place_exits_2(
    tmp_path: Path, flags: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "hub.db"
    SqliteStore(store).close()
    assert tongchou("token", "create", "--store", str(store), "--node", "n1", *flags) == 2
    assert message in capsys.readouterr().err


async def test_a_failing_store_answers_a_join_unavailable(
    hub: Hub, ca: CertificateAuthority, capsys: pytest.CaptureFixture[str]
) -> None:
    token = token_for(hub, capsys, "edge-3", *PLACE)
    credentials = hub.credentials
    assert credentials is not None
    sqlite_of(credentials)._db.execute("PRAGMA query_only = ON")  # every write fails: a dead disk
    try:
        with pytest.raises(RpcError) as err:
            await enrol(hub, ca, token, "edge-3")
    finally:
        sqlite_of(credentials)._db.execute("PRAGMA query_only = OFF")
    assert err.value.code == "UNAVAILABLE", err.value.details
    assert "certificate store is unavailable" in err.value.details
    assert "no certificate was issued" in err.value.details
    creds = await enrol(hub, ca, token, "edge-3")  # the token was not used up
    assert await send(hub, creds, report("edge-3", *PLACE)) == "OK"
