"""Mutual TLS between a province hub and the national hub: a certificate of kind province named
for the province is taken; another province's, or a node's, is refused."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from console.documents import load_fleet
from console.hub.config import HubConfig
from console.hub.rollup.summary import Province
from console.hub.rollup.upstream import UpstreamSettings
from console.hub.server import Hub
from console.security.pki import CertificateAuthority, identity_of
from console.security.tls import TlsFiles
from console.store import SqliteStore
from tests.e2e.waiting import eventually
from tests.relay.conftest import FLEET
from tongchou.v1 import agent_pb2, common_pb2, rollup_pb2, rollup_pb2_grpc


def tls(ca: CertificateAuthority, kind: str, name: str) -> TlsFiles:
    issued = ca.issue(kind, name, hosts=("127.0.0.1",) if kind == "hub" else ())
    return TlsFiles(ca.cert_pem, issued.cert_pem, issued.key_pem)


@pytest.fixture
def national_ca(tmp_path: Path) -> CertificateAuthority:
    return CertificateAuthority.init(tmp_path / "national-ca")


@pytest.fixture
async def national(tmp_path: Path, national_ca: CertificateAuthority) -> AsyncIterator[Hub]:
    config = HubConfig(
        listen="127.0.0.1:0",
        metrics_listen="",
        tls=tls(national_ca, "hub", "national"),
        national=True,
    )
    hub = Hub(config, SqliteStore(tmp_path / "national.db"))
    await hub.start()
    try:
        yield hub
    finally:
        await hub.shutdown()


async def province_hub(
    tmp_path: Path, national: Hub, files: TlsFiles, name: str, interval: float = 0.5
) -> Hub:
    fleet_file = tmp_path / "fleet.yaml"
    fleet_file.write_text(FLEET, encoding="utf-8")
    upstream = UpstreamSettings(
        target=f"127.0.0.1:{national.port}",
        province=Province("440000", "广东省"),
        credentials=files.channel_credentials(),
        interval=interval,
    )
    config = HubConfig(listen="127.0.0.1:0", metrics_listen="", upstream=upstream)
    hub = Hub(config, SqliteStore(tmp_path / f"{name}.db"), fleet=load_fleet([fleet_file]))
    await hub.start()
    return hub


def sent(hub: Hub, outcome: str) -> float:
    value = hub.metrics.registry.get_sample_value(
        "tongchou_hub_upstream_summaries_total", {"outcome": outcome}
    )
    return value or 0.0


async def test_the_province_certificate_is_taken(
    tmp_path: Path, national: Hub, national_ca: CertificateAuthority
) -> None:
    province = await province_hub(tmp_path, national, tls(national_ca, "province", "440000"), "p")
    try:
        assert national.rollup.national is not None
        latest = national.rollup.national.latest

        async def taken() -> bool | None:
            return True if "440000" in latest else None

        await eventually(taken, 20, "the summary on the national hub")
        summary = latest["440000"].summary
        assert [d.code for d in summary.divisions] == ["440000", "440100"]
        assert sent(province, "ok") >= 1
    finally:
        await province.shutdown()


@pytest.mark.parametrize(("kind", "name"), [("province", "450000"), ("node", "a-1")])
async def test_another_certificate_is_refused(
    tmp_path: Path, national: Hub, national_ca: CertificateAuthority, kind: str, name: str
) -> None:
    province = await province_hub(tmp_path, national, tls(national_ca, kind, name), "p")
    try:

        async def failed() -> bool | None:
            return True if sent(province, "failed") >= 1 else None

        await eventually(failed, 20, "the summary refused")
        assert national.rollup.national is not None
        assert national.rollup.national.latest == {}
    finally:
        await province.shutdown()
    # the refusal says why, with the code of a permission problem
    files = tls(national_ca, kind, name)
    async with grpc.aio.secure_channel(
        f"127.0.0.1:{national.port}", files.channel_credentials()
    ) as channel:
        stub = rollup_pb2_grpc.RollupServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.Report(rollup_pb2.ProvinceSummary(province="440000"), timeout=10)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert f"{kind}:{name} may not report for province 440000" in str(refused.value.details())


async def test_a_revoked_province_certificate_is_refused_and_audited(
    national: Hub, national_ca: CertificateAuthority
) -> None:
    files = tls(national_ca, "province", "440000")
    summary = rollup_pb2.ProvinceSummary(province="440000", name="广东省", run_id="r", sequence=1)

    async def report() -> rollup_pb2.RollupAck:
        async with grpc.aio.secure_channel(
            f"127.0.0.1:{national.port}", files.channel_credentials()
        ) as channel:
            stub = rollup_pb2_grpc.RollupServiceStub(channel)
            ack: rollup_pb2.RollupAck = await stub.Report(summary, timeout=10)
            return ack

    await report()
    assert national.credentials is not None and national.rollup.national is not None
    serial = identity_of(files.cert).serial
    assert national.credentials.revoke(serial, "440000", "key left on a laptop", kind="province")
    summary.sequence = 2
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await report()
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "province:440000 was revoked" in str(refused.value.details())
    assert national.rollup.national.latest["440000"].summary.sequence == 1  # not taken
    national.audit_flush()
    assert national.audit is not None
    assert ("province:440000", "rollup.report", "province/440000", "denied") in [
        (r.actor, r.action, r.object, r.outcome) for r in national.audit.records()
    ]


async def test_a_province_without_certificate_of_the_national_ca_cannot_connect(
    tmp_path: Path, national: Hub
) -> None:
    other = CertificateAuthority.init(tmp_path / "other-ca")
    province = await province_hub(tmp_path, national, tls(other, "province", "440000"), "p")
    try:

        async def failed() -> bool | None:
            return True if sent(province, "failed") >= 1 else None

        await eventually(failed, 20, "the handshake refused")
        assert national.rollup.national is not None
        assert national.rollup.national.latest == {}
    finally:
        await province.shutdown()


async def test_a_change_is_reported_within_seconds_not_at_the_interval(
    tmp_path: Path, national: Hub, national_ca: CertificateAuthority
) -> None:
    files = tls(national_ca, "province", "440000")
    province = await province_hub(tmp_path, national, files, "p", interval=3600)
    try:
        assert national.rollup.national is not None
        latest = national.rollup.national.latest

        async def nodes(count: int) -> bool | None:
            got = latest.get("440000")
            return True if got is not None and got.summary.capacity.nodes == count else None

        await eventually(lambda: nodes(0), 20, "the first summary")
        report = agent_pb2.NodeReport(
            identity=common_pb2.NodeIdentity(
                node="a-1", division="440100", level=common_pb2.LEVEL_CITY, site="site-a",
                cluster="a1", arch="aarch64", chip="kunpeng-920",
            ),
            capacity=common_pb2.Capacity(cpu_logical=64, memory_bytes=256 * 2**30),
        )  # fmt: skip
        province.inventory.accept(report, 1, time.time(), 10.0)  # a node registers
        await eventually(lambda: nodes(1), 10, "the change reported")
        assert latest["440000"].summary.capacity.domestic_cpu_cores == 64
    finally:
        await province.shutdown()
