"""User changes are written before they are answered: a failing or locked store gives
UNAVAILABLE with a clear message and changes nothing, while reads and the agents' reports
carry on."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from console.simulate.runner import Simulator
from console.store.credentials import User
from tests.hostile.secure_hub import sqlite_of
from tongchou.v1 import security_pb2, security_pb2_grpc

from .secure_hub import CALL_SECONDS, Api, code_of


class Admin:
    """A sysadmin's and a secadmin's UserService stubs."""

    def __init__(self, api: Api) -> None:
        credentials = api.hub.credentials
        assert credentials is not None
        self.channels: list[grpc.aio.Channel] = []
        self.sys = self._stub(api, credentials.add_user(User("sys", ("sysadmin",), "")))
        self.sec = self._stub(api, credentials.add_user(User("sec", ("secadmin",), "")))

    def _stub(self, api: Api, token: str) -> Any:  # the aio stub (its stubs type it sync)
        channel = grpc.aio.secure_channel(
            f"127.0.0.1:{api.hub.token_port}",
            grpc.composite_channel_credentials(
                grpc.ssl_channel_credentials(api.ca.cert_pem),
                grpc.access_token_call_credentials(token),
            ),
        )
        self.channels.append(channel)
        return security_pb2_grpc.UserServiceStub(channel)

    async def names(self) -> dict[str, tuple[str, ...]]:
        answer = await self.sys.ListUsers(security_pb2.ListUsersRequest(), timeout=CALL_SECONDS)
        return {u.name: tuple(u.roles) for u in answer.users}


@pytest.fixture
async def admin(api: Api) -> AsyncIterator[Admin]:
    out = Admin(api)
    try:
        yield out
    finally:
        for channel in out.channels:
            await channel.close()


def create(name: str) -> security_pb2.CreateUserRequest:
    return security_pb2.CreateUserRequest(name=name, scope="440100")


async def test_a_failing_disk_changes_no_user(api: Api, admin: Admin, probe: Simulator) -> None:
    credentials = api.hub.credentials
    assert credentials is not None
    before = await admin.names()
    sqlite_of(credentials)._db.execute("PRAGMA query_only = ON")  # every write fails: a dead disk
    try:
        code, details = await code_of(admin.sys.CreateUser(create("newbie"), timeout=CALL_SECONDS))
        assert code == grpc.StatusCode.UNAVAILABLE, details
        assert "user store is unavailable" in details
        assert "readonly" in details and "nothing was changed" in details
        grant = security_pb2.GrantRolesRequest(name="gz-viewer", roles=["operator"])
        code, details = await code_of(admin.sec.GrantRoles(grant, timeout=CALL_SECONDS))
        assert code == grpc.StatusCode.UNAVAILABLE, details
        assert await admin.names() == before  # reads carry on, and nothing changed
    finally:
        sqlite_of(credentials)._db.execute("PRAGMA query_only = OFF")
    assert probe.stats.failures == 0
    await admin.sys.CreateUser(create("newbie"), timeout=CALL_SECONDS)
    assert "newbie" in await admin.names()


async def test_a_locked_store_answers_unavailable_in_time(
    api: Api, admin: Admin, probe: Simulator
) -> None:
    """Another process holds the store's write lock: the call ends UNAVAILABLE within the
    bound instead of waiting; reads and the probe's reports carry on meanwhile."""
    assert api.hub.security is not None and api.hub.security.users is not None
    api.hub.security.users.store_seconds = 1.0
    holder = sqlite3.connect(api.hub.store.path, isolation_level=None)  # type: ignore[attr-defined]
    holder.execute("BEGIN IMMEDIATE")
    try:
        acks = probe.stats.acks
        code, details = await code_of(admin.sys.CreateUser(create("late"), timeout=CALL_SECONDS))
        assert code == grpc.StatusCode.UNAVAILABLE, details
        assert "did not answer within 1 s" in details and "not confirmed" in details
        assert "late" not in await admin.names()
        assert probe.stats.acks > acks
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert probe.stats.failures == 0
