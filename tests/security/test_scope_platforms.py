"""The platform catalog over real mutual TLS: a viewer may read it, and a scoped viewer sees
the instances at its sites or serving it, its own tenants named and the others counted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from console.hub.config import HubConfig
from console.hub.server import Hub
from console.model.fleet import Fleet
from console.model.planning import Amount, Platform, PlatformInstance
from console.security.pki import CertificateAuthority
from console.security.tls import TlsFiles
from console.store import SqliteStore
from console.store.credentials import User
from tongchou.divisions import Level

from .test_authz import Api, code_of

IDENTITY = Platform(
    name="unified-identity",
    display_name="统一身份认证",
    base=Amount(64000, 256 * 2**30),
    per_unit=Amount(800, 2 * 2**30),
    build_cost_cny=3_800_000,
    min_level=Level.CITY,
    instances=(
        PlatformInstance("gd-tianyi-gz", ("440000", "440100", "440106", "440104")),
        PlatformInstance("gd-huawei-gz", ("440000", "440300")),
    ),
)
USERS = {"county-viewer": (("viewer",), "440106"), "province-viewer": (("viewer",), "")}


@pytest.fixture
async def api(tmp_path: Path, ca: CertificateAuthority, sample_fleet: Fleet) -> AsyncIterator[Api]:
    hub_cert = ca.issue("hub", "hub")
    config = HubConfig(
        listen="127.0.0.1:0",
        metrics_listen="",
        tls=TlsFiles(ca.cert_pem, hub_cert.cert_pem, hub_cert.key_pem),
        token_listen="127.0.0.1:0",
        platforms=(IDENTITY,),
    )
    hub = Hub(config, SqliteStore(tmp_path / "hub.db"))
    hub.load_fleet(sample_fleet)
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


async def test_a_viewer_reads_every_instance_and_tenant(api: Api) -> None:
    got = await api.client("province-viewer").platform_instances()
    assert [(i.site, len(i.tenants), i.tenants_elsewhere) for i in got] == [
        ("gd-huawei-gz", 2, 0),
        ("gd-tianyi-gz", 4, 0),
    ]


async def test_a_scoped_viewer_sees_its_own_tenants_and_counts_the_rest(api: Api) -> None:
    county = api.client("county-viewer")
    got = await county.platform_instances()
    assert [(i.site, i.division, list(i.tenants), i.tenants_elsewhere) for i in got] == [
        ("gd-tianyi-gz", "440000", ["440106"], 3)
    ]
    assert await code_of(county.platform_instances("440104")) == grpc.StatusCode.PERMISSION_DENIED
    assert ("user:county-viewer", "440104", "denied") in api.denied()
