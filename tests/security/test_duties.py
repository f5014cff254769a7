"""Separation of the three administrators (三员分立) against a real mutual-TLS hub: no single
administrator obtains a credential that acts with another role's rights."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from agent import enroll
from console.client import HubClient
from console.hub.config import HubConfig
from console.hub.server import Hub
from console.security.pki import CertificateAuthority, identity_of
from console.security.tls import TlsFiles
from console.store import SqliteStore
from console.store.credentials import User
from tongchou.v1 import security_pb2, security_pb2_grpc, workloads_pb2, workloads_pb2_grpc

from .test_authz import workload


def _users(channel: grpc.aio.Channel) -> security_pb2_grpc.UserServiceAsyncStub:
    return security_pb2_grpc.UserServiceStub(channel)


class Desk:
    """The hub, and a channel per user over the token port with the user's bearer token."""

    def __init__(self, hub: Hub, ca: CertificateAuthority, delivery: Path) -> None:
        self.hub, self.ca, self.delivery = hub, ca, delivery
        self.tokens: dict[str, str] = {}
        self.channels: list[grpc.aio.Channel] = []

    def channel(self, token: str) -> grpc.aio.Channel:
        creds = grpc.composite_channel_credentials(
            grpc.ssl_channel_credentials(self.ca.cert_pem),
            grpc.access_token_call_credentials(token),
        )
        channel = grpc.aio.secure_channel(f"127.0.0.1:{self.hub.token_port}", creds)
        self.channels.append(channel)
        return channel

    def users(self, who: str) -> security_pb2_grpc.UserServiceAsyncStub:
        return _users(self.channel(self.tokens[who]))

    def anonymous(self) -> security_pb2_grpc.UserServiceAsyncStub:
        channel = grpc.aio.secure_channel(
            f"127.0.0.1:{self.hub.token_port}", grpc.ssl_channel_credentials(self.ca.cert_pem)
        )
        self.channels.append(channel)
        return _users(channel)

    def audit(self) -> list[tuple[str, str, str, str]]:
        assert self.hub.audit is not None
        self.hub.audit_flush()
        return [(r.actor, r.action, r.object, r.outcome) for r in self.hub.audit.records()]


@pytest.fixture
async def desk(tmp_path: Path, ca: CertificateAuthority) -> AsyncIterator[Desk]:
    hub_cert = ca.issue("hub", "hub")
    delivery = tmp_path / "outbox"
    delivery.mkdir()
    config = HubConfig(
        listen="127.0.0.1:0",
        metrics_listen="",
        tls=TlsFiles(ca.cert_pem, hub_cert.cert_pem, hub_cert.key_pem),
        token_listen="127.0.0.1:0",
        ca_dir=tmp_path / "ca",
        enrol_delivery=delivery,
    )
    hub = Hub(config, SqliteStore(tmp_path / "hub.db"))
    await hub.start()
    assert hub.credentials is not None
    out = Desk(hub, ca, delivery)
    for name, role in (("sys1", "sysadmin"), ("sec1", "secadmin"), ("aud1", "auditor")):
        out.tokens[name] = hub.credentials.add_user(User(name, (role,), ""))
    try:
        yield out
    finally:
        for channel in out.channels:
            await channel.close()
        await hub.shutdown()


async def code_of(call: object) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call  # type: ignore[misc]
    code = err.value.code()
    assert code is not None
    return code


async def test_the_security_admin_cannot_make_or_hold_an_account(desk: Desk) -> None:
    sec = desk.users("sec1")
    assert await code_of(sec.CreateUser(security_pb2.CreateUserRequest(name="a2"))) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    # no reply of the API carries a credential any more
    assert "token" not in security_pb2.CreateUserResponse.DESCRIPTOR.fields_by_name
    sys_ = desk.users("sys1")
    with_roles = security_pb2.CreateUserRequest(name="a2", roles=["auditor"])
    assert await code_of(sys_.CreateUser(with_roles)) == grpc.StatusCode.INVALID_ARGUMENT
    # nor can the secadmin lend itself another role, or act as an operator
    grant_self = security_pb2.GrantRolesRequest(name="sec1", roles=["operator"])
    assert await code_of(sec.GrantRoles(grant_self)) == grpc.StatusCode.PERMISSION_DENIED
    stub = workloads_pb2_grpc.WorkloadServiceStub(desk.channel(desk.tokens["sec1"]))
    submit = stub.SubmitWorkload(workloads_pb2.SubmitWorkloadRequest(yaml=workload("w1", "440106")))
    assert await code_of(submit) == grpc.StatusCode.PERMISSION_DENIED
    remove = stub.DeleteWorkload(workloads_pb2.DeleteWorkloadRequest(name="w1"))
    assert await code_of(remove) == grpc.StatusCode.PERMISSION_DENIED
    delete = sec.DeleteUser(security_pb2.DeleteUserRequest(name="aud1"))
    assert await code_of(delete) == grpc.StatusCode.PERMISSION_DENIED


async def test_an_auditor_account_needs_two_admins_and_its_own_enrolment(desk: Desk) -> None:
    sys_, sec = desk.users("sys1"), desk.users("sec1")
    made = await sys_.CreateUser(security_pb2.CreateUserRequest(name="aud2"))
    assert list(made.user.roles) == [] and "delivery directory" in made.enrolment
    code_file = desk.delivery / "aud2.code"
    assert code_file.stat().st_mode & 0o777 == 0o600
    code = code_file.read_text().strip()
    assert code not in str(made)

    # the secadmin grants the auditor role: it waits for a second administrator
    asked = await sec.GrantRoles(security_pb2.GrantRolesRequest(name="aud2", roles=["auditor"]))
    assert not asked.applied and asked.pending.requested_by == "user:sec1"
    assert desk.hub.credentials is not None
    assert desk.hub.credentials.user("aud2").roles == ()  # type: ignore[union-attr]
    approve = security_pb2.ApproveChangeRequest(id=asked.pending.id)
    assert await code_of(sec.ApproveChange(approve)) == grpc.StatusCode.PERMISSION_DENIED
    listed = await sys_.ListChanges(security_pb2.ListChangesRequest())
    assert [c.id for c in listed.changes] == [asked.pending.id]
    assert (await sys_.ApproveChange(approve)).applied
    assert desk.hub.credentials.user("aud2").roles == ("auditor",)  # type: ignore[union-attr]

    # the user, not an admin, turns the delivered code into a credential, once
    anonymous = desk.anonymous()
    enrolled = await anonymous.Enrol(security_pb2.EnrolRequest(name="aud2", code=code))
    again = anonymous.Enrol(security_pb2.EnrolRequest(name="aud2", code=code))
    assert await code_of(again) == grpc.StatusCode.UNAUTHENTICATED
    audit = security_pb2_grpc.AuditServiceStub(desk.channel(enrolled.token))
    verdict = await audit.VerifyAudit(security_pb2.VerifyAuditRequest())
    assert verdict.ok
    records = [r async for r in audit.ExportAudit(security_pb2.ExportAuditRequest())]
    assert any(r.action == "user.grant" and r.object == "user/aud2" for r in records)

    # deleting an auditor's account waits for approval too
    gone = await sys_.DeleteUser(security_pb2.DeleteUserRequest(name="aud2"))
    assert not gone.applied
    assert desk.hub.credentials.user("aud2") is not None
    done = await sec.ApproveChange(security_pb2.ApproveChangeRequest(id=gone.pending.id))
    assert done.applied and desk.hub.credentials.user("aud2") is None
    trail = desk.audit()
    for step in (
        ("user:sys1", "user.create", "user/aud2", "ok"),
        ("user:sec1", "user.grant", "user/aud2", "ok"),
        ("user:sec1", "change.approve", "change/" + asked.pending.id, "failed:PERMISSION_DENIED"),
        ("user:sys1", "user.grant", "user/aud2", "ok"),
        ("user:aud2", "user.enrol", "user/aud2", "ok"),
        ("anonymous", "user.enrol", "user/aud2", "unauthenticated"),
        ("user:sys1", "user.delete", "user/aud2", "ok"),
        ("user:sec1", "user.delete", "user/aud2", "ok"),
    ):
        assert step in trail, step


async def test_an_operator_enrols_with_a_key_of_its_own(desk: Desk) -> None:
    key, csr = enroll.key_and_csr("li.na")
    made = await desk.users("sys1").CreateUser(
        security_pb2.CreateUserRequest(name="li.na", scope="440106", csr_pem=csr)
    )
    assert made.cert_pem and not (desk.delivery / "li.na.code").exists()
    granted = await desk.users("sec1").GrantRoles(
        security_pb2.GrantRolesRequest(name="li.na", roles=["operator"])
    )
    assert granted.applied  # not an administrator's role: no approval needed
    tls = grpc.ssl_channel_credentials(desk.ca.cert_pem, key, made.cert_pem.encode())
    async with HubClient(f"127.0.0.1:{desk.hub.port}", tls) as client:
        me = await client.whoami()
        assert (me.name, list(me.roles), me.scope) == ("li.na", ["operator"], "440106")
    assert desk.hub.credentials is not None
    record = desk.hub.credentials.certificate(identity_of(made.cert_pem.encode()).serial)
    assert record is not None and record.owner == desk.hub.credentials.user("li.na").id  # type: ignore[union-attr]
