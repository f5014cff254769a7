"""A complete audit trail that a flood cannot fill, against a real mutual-TLS hub: refusals,
rejected reports, rate limits, cancellations and unexpected errors recorded with their object;
one peer's refusals aggregated per minute; the chain checked at start-up."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import grpc
import pytest

from console.hub.config import HubConfig
from console.hub.server import Hub
from console.security.pki import CertificateAuthority
from console.security.tls import TlsFiles
from console.store import SqliteStore
from console.store.audit import AuditEntry
from console.store.credentials import User
from tests.e2e.conftest import ROOT
from tongchou.v1 import agent_pb2, plans_pb2, security_pb2, security_pb2_grpc

from .conftest import client_tls, user_tls
from .test_authz import Api, api, workload

__all__ = ["api"]  # the fixture
PLANNING = ROOT / "examples" / "guangdong" / "planning"


def records(hub: Hub, action: str = "") -> list[tuple[str, str, str, str]]:
    assert hub.audit is not None
    hub.audit_flush()
    return [
        (r.actor, r.action, r.object, r.outcome)
        for r in hub.audit.records()
        if not action or r.action == action
    ]


async def code_of(call: object) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call  # type: ignore[misc]
    code = err.value.code()
    assert code is not None
    return code


async def test_a_flood_of_bad_tokens_costs_bounded_rows(api: Api) -> None:
    assert api.hub.audit is not None
    before = len(records(api.hub))
    for i in range(300):
        api.tokens[f"bad{i}"] = f"tcu_forged_{i}"
    calls = [api.client(f"bad{i}").fleet_summary() for i in range(300)]
    codes = await asyncio.gather(*(code_of(c) for c in calls))
    assert set(codes) == {grpc.StatusCode.UNAUTHENTICATED}
    assert len(records(api.hub)) - before == 1  # the first, at once
    assert api.hub.trail is not None
    api.hub.trail.refusals.flush(everything=True)
    rows = records(api.hub)[before:]
    assert len(rows) == 2
    assert api.hub.audit.verify().ok
    registry = api.hub.metrics.registry
    denied = registry.get_sample_value("tongchou_hub_denied_total", {"reason": "unauthenticated"})
    assert denied == 300  # every refusal is still counted


async def test_mutations_name_their_object(api: Api) -> None:
    province = api.client("province-op")
    await province.submit_workload(workload("gz-portal", "440100"))
    await province.delete_workload("gz-portal")
    assert await code_of(province.delete_workload("gz-portal")) == grpc.StatusCode.NOT_FOUND
    trail = records(api.hub)
    assert ("user:province-op", "workload.submit", "workload/gz-portal", "ok") in trail
    assert ("user:province-op", "workload.delete", "workload/gz-portal", "ok") in trail
    assert (
        "user:province-op",
        "workload.delete",
        "workload/gz-portal",
        "failed:NOT_FOUND",
    ) in trail


async def test_an_unexpected_error_is_recorded(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    province = api.client("province-op")
    await province.submit_workload(workload("gz-portal", "440100"))

    def broken(_name: str) -> object:
        raise RuntimeError("the explanation broke")

    monkeypatch.setattr(api.hub.workloads, "explain", broken)
    assert await code_of(province.explain("gz-portal")) == grpc.StatusCode.UNKNOWN
    assert ("user:province-op", "call", "workload/gz-portal", "failed:UNKNOWN") in records(api.hub)


async def test_a_cancelled_plan_is_recorded(api: Api) -> None:
    documents = "\n---\n".join(
        p.read_text(encoding="utf-8") for p in sorted(PLANNING.glob("*.yaml"))
    )
    planner = api.client("province-op")
    call = planner._plans.RunPlan(
        plans_pb2.RunPlanRequest(yaml=documents, time_limit_seconds=60, gap=0.0)
    )
    await call.read()  # the plan is under way
    call.cancel()  # and the caller goes away
    for _ in range(100):
        if ("user:province-op", "plan.run", "plan/new", "cancelled") in records(api.hub):
            break
        await asyncio.sleep(0.1)
    assert ("user:province-op", "plan.run", "plan/new", "cancelled") in records(api.hub)


async def raw_stream(port: int, creds: grpc.ChannelCredentials, payload: bytes) -> grpc.StatusCode:
    async with grpc.aio.secure_channel(f"127.0.0.1:{port}", creds) as channel:
        call = channel.stream_stream(
            "/tongchou.v1.AgentService/Connect",
            request_serializer=lambda b: b,
            response_deserializer=agent_pb2.ReportAck.FromString,
        )()
        await call.write(payload)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call.read()
        code = err.value.code()
        assert code is not None
        return code


async def test_rejected_reports_are_recorded(api: Api, ca: CertificateAuthority) -> None:
    assert api.hub.credentials is not None
    user = user_tls(ca, api.hub.credentials, "county-viewer").channel_credentials()
    assert await raw_stream(api.hub.port, user, b"\xff garbage") == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    node = client_tls(ca, "node", "tianhe-02").channel_credentials()
    assert await raw_stream(api.hub.port, node, b"\xff garbage") == (
        grpc.StatusCode.INVALID_ARGUMENT
    )
    trail = records(api.hub)
    assert ("user:county-viewer", "agent.connect", "node/county-viewer", "denied") in trail
    assert ("node:tianhe-02", "agent.report", "node/tianhe-02", "rejected") in trail


async def test_a_rate_limited_stream_is_recorded(tls_hub: Hub, ca: CertificateAuthority) -> None:
    from .conftest import report_for

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
            for seq in range(1, 100):
                report.sequence = seq
                await call.write(report)
                await call.read()
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert ("node:node-f", "agent.report", "node/node-f", "rate-limited") in records(tls_hub)


async def test_a_broken_chain_is_logged_at_start_up(
    tmp_path: Path, ca: CertificateAuthority, caplog: pytest.LogCaptureFixture
) -> None:
    hub_cert = ca.issue("hub", "hub")
    config = HubConfig(
        listen="127.0.0.1:0",
        metrics_listen="",
        tls=TlsFiles(ca.cert_pem, hub_cert.cert_pem, hub_cert.key_pem),
    )
    store = tmp_path / "hub.db"
    hub = Hub(config, SqliteStore(store))
    await hub.start()
    for i in range(5):
        hub.record(AuditEntry("user:a", "workload.submit", f"workload/w{i}", "ok"))
    await hub.shutdown()
    with sqlite3.connect(store) as db:  # the insider wipes the log
        db.execute("DELETE FROM audit")
        db.execute("DELETE FROM audit_head")
    hub = Hub(config, SqliteStore(store))
    caplog.set_level(logging.INFO, "tongchou.audit")
    await hub.start()
    try:
        broken = [r.getMessage() for r in caplog.records if "AUDIT CHAIN BROKEN" in r.getMessage()]
        assert broken and "witness saw record 5" in broken[0]
        registry = hub.metrics.registry
        assert registry.get_sample_value("tongchou_audit_chain_ok") == 0
    finally:
        await hub.shutdown()


async def test_a_scoped_auditor_exports_its_subtree_only(api: Api) -> None:
    assert api.hub.credentials is not None
    api.tokens["city-auditor"] = api.hub.credentials.add_user(
        User("city-auditor", ("auditor",), "440100")
    )
    county, other = api.client("county-op"), api.client("province-op")
    assert await code_of(county.node("yuexiu-01")) == grpc.StatusCode.NOT_FOUND  # in 440106
    await other.submit_workload(workload("sz-app", "440300"))  # a province-wide user
    auditor = security_pb2_grpc.AuditServiceStub(api.client("city-auditor")._channel)
    rows = [r async for r in auditor.ExportAudit(security_pb2.ExportAuditRequest())]
    shown = [r for r in rows if r.action != "audit.withheld"]
    assert shown and all(r.scope.startswith("4401") for r in shown)
    assert any(r.actor == "user:county-op" for r in shown)
    assert not any(r.object == "workload/sz-app" for r in shown)
    (withheld,) = [r for r in rows if r.action == "audit.withheld"]
    assert "records of callers outside 440100" in withheld.detail


async def test_an_explanation_shows_the_callers_subtree(api: Api) -> None:
    county = api.client("county-op")
    await county.submit_workload(workload("tianhe-queue", "440106"))
    province = api.client("province-op")
    full = await province.explain("tianhe-queue")
    mine = await county.explain("tianhe-queue")
    assert len(full.clusters) > 50
    kept = {v.cluster for v in mine.clusters}
    assert kept and len(kept) < 10
    divisions = {
        v.cluster: api.hub.workloads.documents.sites[
            api.hub.workloads.documents.clusters[v.cluster].site
        ].division
        for v in mine.clusters
        if v.cluster in api.hub.workloads.documents.clusters
    }
    for verdict in mine.clusters:
        # the agents' own cluster is in no document: its nodes report 440106
        inside = divisions.get(verdict.cluster, "440106").startswith("440106")
        assert inside or (verdict.replicas and not verdict.fit and not verdict.terms)
    assert "clusters outside 440106 not shown" in mine.summary


async def test_metrics_and_health_ports(tmp_path: Path, ca: CertificateAuthority) -> None:
    import argparse
    import ssl
    import urllib.error
    import urllib.request

    from console.hub.cli import add_arguments, config_from

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert config_from(parser.parse_args(["--insecure"])).metrics_listen == "127.0.0.1:9470"

    hub_cert = ca.issue("hub", "hub")
    pki = tmp_path / "pki"
    hub_cert.write(pki, "hub")
    (pki / "ca.crt").write_bytes(ca.cert_pem)
    config = HubConfig(
        listen="127.0.0.1:0",
        metrics_listen="127.0.0.1:0",
        metrics_tls=(pki / "hub.crt", pki / "hub.key", pki / "ca.crt"),
        health_listen="127.0.0.1:0",
        tls=TlsFiles(ca.cert_pem, hub_cert.cert_pem, hub_cert.key_pem),
    )
    hub = Hub(config, SqliteStore(tmp_path / "hub.db"))
    await hub.start()
    try:
        assert hub._healthz is not None
        health = f"http://127.0.0.1:{hub._healthz.port}"

        def get(url: str, context: ssl.SSLContext | None = None) -> tuple[int, bytes]:
            try:
                with urllib.request.urlopen(url, timeout=10, context=context) as answer:
                    return answer.status, answer.read()
            except urllib.error.HTTPError as err:
                return err.code, b""

        assert await asyncio.to_thread(get, f"{health}/healthz") == (200, b"ok\n")
        assert (await asyncio.to_thread(get, f"{health}/metrics"))[0] == 404
        metrics = f"https://localhost:{hub.metrics_port}/metrics"
        anonymous = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        with pytest.raises((urllib.error.URLError, ssl.SSLError, ConnectionError)):
            await asyncio.to_thread(get, metrics, anonymous)
        scraper = client_tls(ca, "scraper", "prometheus")
        (tmp_path / "p.crt").write_bytes(scraper.cert)
        (tmp_path / "p.key").write_bytes(scraper.key)
        with_cert = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        with_cert.load_cert_chain(str(tmp_path / "p.crt"), str(tmp_path / "p.key"))
        status, body = await asyncio.to_thread(get, metrics, with_cert)
        assert status == 200 and b"tongchou_audit_head_sequence" in body
    finally:
        await hub.shutdown()
