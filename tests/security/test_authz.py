"""The console API's guard over real TLS: authentication, roles, separation of duties, scopes,
deny by default, and the audit of every refusal."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Coroutine
from pathlib import Path
from typing import Any

import grpc
import pytest

from console.client import HubClient
from console.hub.config import HubConfig
from console.hub.server import Hub
from console.model.fleet import Fleet
from console.security.authz import METHODS
from console.security.pki import CertificateAuthority, identity_of
from console.security.roles import RoleError, check_roles
from console.security.tls import TlsFiles
from console.store import SqliteStore
from console.store.credentials import User
from tongchou.v1 import security_pb2, security_pb2_grpc

from .conftest import client_tls, send_one, user_tls

USERS = {
    "county-op": (("operator",), "440106"),
    "province-op": (("operator", "planner"), ""),
    "county-viewer": (("viewer",), "440106"),
    "auditor": (("auditor",), ""),
    "sysadmin": (("sysadmin",), ""),
    "secadmin": (("secadmin",), ""),
}


def workload(name: str, owner: str) -> str:
    return (
        f"apiVersion: tongchou.io/v1\nkind: Workload\nmetadata: {{name: {name}}}\n"
        f'spec: {{owner: "{owner}", replicas: 1, resources: {{cpu: "1", memory: 1Gi}}, '
        "image: registry.example/app:1, mlpsLevel: 2}\n"
    )


class Api:
    def __init__(self, hub: Hub, ca: CertificateAuthority, tokens: dict[str, str]) -> None:
        self.hub, self.ca, self.tokens = hub, ca, tokens
        self.clients: list[HubClient] = []

    def client(self, user: str) -> HubClient:
        """Over the token port, with the user's bearer token."""
        creds = grpc.composite_channel_credentials(
            grpc.ssl_channel_credentials(self.ca.cert_pem),
            grpc.access_token_call_credentials(self.tokens[user]),
        )
        client = HubClient(f"127.0.0.1:{self.hub.token_port}", creds)
        self.clients.append(client)
        return client

    def denied(self) -> list[tuple[str, str, str]]:
        assert self.hub.audit is not None
        self.hub.audit_flush()
        return [
            (r.actor, r.object.rsplit("/", 1)[-1], r.outcome)
            for r in self.hub.audit.records()
            if r.outcome in ("denied", "unauthenticated")
        ]


@pytest.fixture
async def api(tmp_path: Path, ca: CertificateAuthority, sample_fleet: Fleet) -> AsyncIterator[Api]:
    hub_cert = ca.issue("hub", "hub")
    config = HubConfig(
        listen="127.0.0.1:0",
        metrics_listen="",
        tls=TlsFiles(ca.cert_pem, hub_cert.cert_pem, hub_cert.key_pem),
        token_listen="127.0.0.1:0",
    )
    hub = Hub(config, SqliteStore(tmp_path / "hub.db"))
    hub.load_fleet(sample_fleet)
    await hub.start()
    assert hub.credentials is not None
    tokens = {
        name: hub.credentials.add_user(User(name, roles, scope))
        for name, (roles, scope) in USERS.items()
    }
    for node, division in (("tianhe-01", "440106"), ("yuexiu-01", "440104")):
        creds = client_tls(ca, "node", node).channel_credentials()
        assert (await send_one(hub.port, creds, node, division)).accepted
    out = Api(hub, ca, tokens)
    try:
        yield out
    finally:
        for client in out.clients:
            await client.close()
        await hub.shutdown()


async def code_of(call: object) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call  # type: ignore[misc]
    code = err.value.code()
    assert code is not None
    return code


async def test_a_county_operator_sees_and_acts_on_its_subtree_only(api: Api) -> None:
    province = api.client("province-op")
    await province.submit_workload(workload("gz-portal", "440100"))
    await province.submit_workload(workload("yuexiu-app", "440104"))
    county = api.client("county-op")
    assert [n.identity.node async for n in county.nodes()] == ["tianhe-01"]
    assert (await county.node("tianhe-01")).identity.node == "tianhe-01"
    assert (await county.fleet_summary()).totals.nodes_ready == 1
    await county.submit_workload(workload("tianhe-queue", "440106"))
    assert [w.name for w in await county.workloads()] == ["tianhe-queue"]
    await county.delete_workload("tianhe-queue")

    refused = [
        county.submit_workload(workload("x", "440104")),
        county.submit_workload(workload("y", "440000")),
        county.submit_workload(workload("gz-portal", "440106")),  # takes over another's name
    ]
    for call in refused:
        assert await code_of(call) == grpc.StatusCode.PERMISSION_DENIED
    # what lies outside the scope gets the answer of what does not exist, word for word
    hidden: list[tuple[Coroutine[Any, Any, object], Coroutine[Any, Any, object]]] = [
        (county.node("yuexiu-01"), county.node("no-such-node")),
        (county.delete_workload("yuexiu-app"), county.delete_workload("nope")),
        (county.delete_workload("gz-portal"), county.delete_workload("nope")),
        (county.explain("gz-portal"), county.explain("nope")),
        (county.workload("gz-portal"), county.workload("nope")),
    ]
    for other, absent in hidden:
        for attempt in (other, absent):
            assert await code_of(attempt) == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as theirs:
        await county.workload("gz-portal")
    with pytest.raises(grpc.aio.AioRpcError) as none:
        await county.workload("gz-portal-x")
    assert (theirs.value.details() or "").replace("gz-portal", "X") == (
        none.value.details() or ""
    ).replace("gz-portal-x", "X")
    refusals = len(refused) + len(hidden) + 1  # and the last get above
    for division in ("440104", "440000"):  # another county, and the province level
        listing = county.nodes(division=division)
        assert await code_of(anext(listing)) == grpc.StatusCode.PERMISSION_DENIED
    assert {w.name for w in await province.workloads()} == {"gz-portal", "yuexiu-app"}
    denials = api.denied()
    assert len(denials) == refusals + 2  # each refused or hidden call, and the listings
    assert {actor for actor, _m, _o in denials} == {"user:county-op"}


async def test_separation_of_duties(api: Api) -> None:
    auditor, sysadmin = api.client("auditor"), api.client("sysadmin")
    assert await code_of(auditor.submit_workload(workload("a", "440106"))) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    assert await code_of(auditor.fleet_summary()) == grpc.StatusCode.PERMISSION_DENIED
    export = security_pb2_grpc.AuditServiceStub(auditor._channel)
    records = [r async for r in export.ExportAudit(security_pb2.ExportAuditRequest())]
    assert any(r.outcome == "denied" and r.actor == "user:auditor" for r in records)
    # the console's client reads the same log (its audit view), from a time on
    assert {r.seq for r in records} <= {r.seq for r in await auditor.audit()}
    assert all(r.at >= records[-1].at for r in await auditor.audit(since=records[-1].at))
    await sysadmin.fleet_summary()  # the sysadmin runs the hub ...
    stub = security_pb2_grpc.AuditServiceStub(sysadmin._channel)
    with pytest.raises(grpc.aio.AioRpcError) as err:  # ... but cannot read the audit log
        [r async for r in stub.ExportAudit(security_pb2.ExportAuditRequest())]
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(RoleError, match="two administrator roles"):
        check_roles(["sysadmin", "auditor"])
    for roles in (["secadmin", "operator"], ["auditor", "viewer"]):
        with pytest.raises(RoleError, match="separation of duties"):
            check_roles(roles)
    # the sysadmin makes an account without rights; the secadmin grants it a role
    sysusers = security_pb2_grpc.UserServiceStub(sysadmin._channel)
    made = await sysusers.CreateUser(security_pb2.CreateUserRequest(name="li.na", scope="440106"))
    assert list(made.user.roles) == [] and not made.cert_pem
    secusers = security_pb2_grpc.UserServiceStub(api.client("secadmin")._channel)
    granted = await secusers.GrantRoles(
        security_pb2.GrantRolesRequest(name="li.na", roles=["viewer"])
    )
    assert granted.applied
    assert api.hub.credentials is not None
    user = api.hub.credentials.user("li.na")
    assert user is not None and (user.roles, user.scope) == (("viewer",), "440106")
    with pytest.raises(grpc.aio.AioRpcError) as err:  # a secadmin makes no accounts
        await secusers.CreateUser(security_pb2.CreateUserRequest(name="x"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_unknown_methods_are_denied_by_default(api: Api) -> None:
    assert api.hub.guard is not None
    api.hub.guard.methods = {m: r for m, r in METHODS.items() if not m.endswith("/GetFleetSummary")}
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await api.client("province-op").fleet_summary()
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "not in the permission table" in (err.value.details() or "")


async def test_unauthenticated_callers_are_refused_and_audited(
    api: Api, ca: CertificateAuthority
) -> None:
    anonymous = HubClient(
        f"127.0.0.1:{api.hub.token_port}", grpc.ssl_channel_credentials(ca.cert_pem)
    )
    api.clients.append(anonymous)
    assert await code_of(anonymous.fleet_summary()) == grpc.StatusCode.UNAUTHENTICATED
    api.tokens["forged"] = "tcu_forged"
    assert await code_of(api.client("forged").fleet_summary()) == grpc.StatusCode.UNAUTHENTICATED
    stranger = client_tls(ca, "user", "stranger").channel_credentials()
    by_cert = HubClient(f"127.0.0.1:{api.hub.port}", stranger)
    api.clients.append(by_cert)
    assert await code_of(by_cert.fleet_summary()) == grpc.StatusCode.UNAUTHENTICATED
    # one peer's refusals in a minute: the first at once, then one record with the count
    assert [o for _a, _m, o in api.denied()] == ["unauthenticated"]
    assert api.hub.trail is not None
    api.hub.trail.refusals.flush(everything=True)
    assert [o for _a, _m, o in api.denied()] == ["unauthenticated"] * 2
    assert api.hub.audit is not None
    assert "2 more like this from 127.0.0.1" in list(api.hub.audit.records())[-1].detail
    registry = api.hub.metrics.registry
    assert (
        registry.get_sample_value("tongchou_hub_denied_total", {"reason": "unauthenticated"}) == 3
    )


async def test_a_user_certificate_authenticates_on_the_main_port(
    api: Api, ca: CertificateAuthority
) -> None:
    assert api.hub.credentials is not None
    creds = user_tls(ca, api.hub.credentials, "county-viewer").channel_credentials()
    client = HubClient(f"127.0.0.1:{api.hub.port}", creds)
    api.clients.append(client)
    assert [n.identity.node async for n in client.nodes()] == ["tianhe-01"]
    assert await code_of(client.submit_workload(workload("v", "440106"))) == (
        grpc.StatusCode.PERMISSION_DENIED
    )


async def test_the_console_shows_user_and_scope_and_hides_what_the_role_cannot_do(
    api: Api,
) -> None:
    from console.tui.app import TongchouApp

    for user, can_submit in (("county-viewer", False), ("province-op", True)):
        app = TongchouApp(api.client(user), clock=False)
        async with app.run_test() as pilot:
            for _ in range(100):
                if app.allowed is not None:
                    break
                await pilot.pause(0.05)
            assert app.allowed is not None, "the console asked the hub who it is"
            assert user in app.sub_title
            assert ("440106" in app.sub_title) == (user == "county-viewer")
            assert app.check_action("submit", ()) is can_submit
            assert app.check_action("run_plan", ()) is can_submit
            assert app.check_action("filter", ()) is True


async def test_a_cancelled_stream_ends_quietly(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    client = api.client("county-viewer")
    for _ in range(3):
        stream = client.watch()
        assert isinstance(stream, AsyncGenerator)
        first = await anext(stream)
        assert [n.identity.node for n in first.upserted] == ["tianhe-01"]
        assert first.summary.totals.nodes_ready == 1
        assert all(e.subject == "tianhe-01" for e in first.events)
        await stream.aclose()
    await client.close()
    await asyncio.sleep(0.5)
    problems = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert problems == [], [r.getMessage() for r in problems]


async def test_a_revoked_user_certificate_is_unauthenticated(
    api: Api, ca: CertificateAuthority
) -> None:
    assert api.hub.credentials is not None
    tls = user_tls(ca, api.hub.credentials, "county-viewer")
    client = HubClient(f"127.0.0.1:{api.hub.port}", tls.channel_credentials())
    api.clients.append(client)
    await client.fleet_summary()
    assert api.hub.credentials is not None
    api.hub.credentials.revoke(identity_of(tls.cert).serial, "county-viewer", "")
    assert await code_of(client.fleet_summary()) == grpc.StatusCode.UNAUTHENTICATED


async def test_a_county_viewer_lists_divisions_sites_clusters_of_its_subtree_only(
    api: Api,
) -> None:
    county = api.client("county-viewer")
    assert [d.code for d in await county.divisions()] == ["440106", "440106013"]
    sites = await county.sites()
    assert {"tianhe-huawei", "liede-room"} <= {s.name for s in sites}  # and the agent's own
    assert all(s.division.startswith("440106") for s in sites)
    clusters = await county.clusters()
    assert {"tianhe-gov", "liede-gov"} <= {c.name for c in clusters}
    assert all(c.division.startswith("440106") for c in clusters)
    assert await county.clusters("440106013") != []
    assert (await county.cluster("tianhe-gov")).site == "tianhe-huawei"
    assert (await county.site("liede-room")).division == "440106013"
    assert (await county.division("440106")).name == "天河区"
    effects = await county.policies()  # counts only: no names of clusters outside the scope
    assert all(not p.removed_examples for p in effects.policies)

    refused = [
        county.clusters("440104"),
        county.sites("440000"),
        county.divisions("440100"),
        county.plans(),  # a plan covers every division
    ]
    for call in refused:
        assert await code_of(call) == grpc.StatusCode.PERMISSION_DENIED
    hidden = [county.cluster("yuexiu-gov"), county.site("yuexiu-dc"), county.division("440104")]
    for call in hidden:
        assert await code_of(call) == grpc.StatusCode.NOT_FOUND
    refused += hidden
    province = api.client("province-op")
    assert len(await province.clusters()) > 50
    assert await province.plans() == []
    assert len(api.denied()) == len(refused)
