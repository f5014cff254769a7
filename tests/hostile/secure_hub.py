"""A hub on loopback with mutual TLS, bearer-token users of several scopes, and a probe agent
whose acknowledgements show the event loop is free."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import replace
from pathlib import Path
from typing import Any

import grpc
import pytest

from console.client import HubClient
from console.documents import load_fleet
from console.hub.config import HubConfig
from console.hub.server import Hub
from console.security.pki import CertificateAuthority
from console.security.tls import TlsFiles
from console.simulate.nodes import sim_node
from console.simulate.runner import Simulator
from console.store import SqliteStore
from console.store.credentials import Credentials, User
from console.store.sql import SqliteDatabase

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "guangdong"
CALL_SECONDS = 30.0
"""A refusal must come well within this; a hub that stalls fails the call instead."""

USERS = {
    "gz-op": (("operator", "planner"), "440100"),
    "gz-viewer": (("viewer",), "440100"),
    "province-op": (("operator", "planner"), ""),
}


class Api:
    def __init__(self, hub: Hub, ca: CertificateAuthority, tokens: dict[str, str]) -> None:
        self.hub, self.ca, self.tokens = hub, ca, tokens
        self.clients: list[HubClient] = []

    def client(self, user: str) -> HubClient:
        creds = grpc.composite_channel_credentials(
            grpc.ssl_channel_credentials(self.ca.cert_pem),
            grpc.access_token_call_credentials(self.tokens[user]),
        )
        client = HubClient(f"127.0.0.1:{self.hub.token_port}", creds)
        self.clients.append(client)
        return client


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    ca = CertificateAuthority.init(tmp_path / "ca")
    cert = ca.issue("hub", "hub")
    config = HubConfig(
        listen="127.0.0.1:0",
        metrics_listen="",
        tls=TlsFiles(ca.cert_pem, cert.cert_pem, cert.key_pem),
        token_listen="127.0.0.1:0",
        trust_simulators=True,
        report_interval=0.2,
    )
    hub = Hub(config, SqliteStore(tmp_path / "hub.db"))
    hub.load_fleet(load_fleet([SAMPLE]))
    await hub.start()
    assert hub.credentials is not None
    tokens = {
        name: hub.credentials.add_user(User(name, roles, scope))
        for name, (roles, scope) in USERS.items()
    }
    out = Api(hub, ca, tokens)
    try:
        yield out
    finally:
        for client in out.clients:
            await client.close()
        await hub.shutdown()


@pytest.fixture
async def probe(api: Api) -> AsyncIterator[Simulator]:
    """A well-behaved agent reporting every 0.2 s over mutual TLS."""
    fleet = load_fleet([SAMPLE])
    node = fleet.nodes[sorted(fleet.nodes)[0]]
    tls = api.ca.issue("simulator", "probe")
    creds = TlsFiles(api.ca.cert_pem, tls.cert_pem, tls.key_pem).channel_credentials()
    sim = Simulator(
        f"127.0.0.1:{api.hub.port}",
        [sim_node(fleet, replace(node, name="probe-1"))],
        interval=0.2,
        ramp_seconds=0.0,
        credentials=creds,
    )
    task = asyncio.create_task(sim.run(), name="probe-agent")
    for _ in range(200):
        if sim.stats.acks:
            break
        await asyncio.sleep(0.05)
    assert sim.stats.acks, "the probe agent was never acknowledged"
    try:
        yield sim
    finally:
        sim.stop.set()
        await task


async def code_of(call: Awaitable[Any]) -> tuple[grpc.StatusCode, str]:
    try:
        await call
    except grpc.aio.AioRpcError as err:
        code = err.code()
        assert code is not None
        return code, err.details() or ""
    return grpc.StatusCode.OK, ""


def sqlite_of(credentials: Credentials) -> SqliteDatabase:
    """The SQLite file under a hub's credentials, for tests that freeze or break it."""
    db = credentials.db
    assert isinstance(db, SqliteDatabase)
    return db
