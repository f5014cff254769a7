"""A stream's revocation check is a store read: it runs in a worker thread, never on the hub's
event loop (with PostgreSQL it is a network round-trip every stream would wait on)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import grpc
import pytest

from console.hub.server import Hub
from console.security.pki import CertificateAuthority, Identity, identity_of
from tongchou.v1 import relay_pb2

from .conftest import client_tls, send_one


def on_the_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def spy(hub: Hub) -> list[tuple[str, bool]]:
    """Wraps the hub's revocation check; records who was checked and whether on the loop."""
    binding = hub.ingest.binding
    assert binding is not None
    seen: list[tuple[str, bool]] = []
    real: Callable[[Identity], bool] = binding.revoked

    def revoked(ident: Identity) -> bool:
        seen.append((ident.name, on_the_loop()))
        return real(ident)

    binding.revoked = revoked
    return seen


async def test_a_nodes_stream_is_checked_off_the_loop(
    tls_hub: Hub, ca: CertificateAuthority
) -> None:
    seen = spy(tls_hub)
    tls = client_tls(ca, "node", "node-r")
    assert (await send_one(tls_hub.port, tls.channel_credentials(), "node-r")).accepted
    assert seen and all(name == "node-r" for name, _ in seen)
    assert not any(loop for _, loop in seen), seen
    assert tls_hub.credentials is not None
    assert tls_hub.credentials.revoke(identity_of(tls.cert).serial, "node-r", "stolen laptop")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await send_one(tls_hub.port, tls.channel_credentials(), "node-r")
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "revoked" in (err.value.details() or "")
    assert not any(loop for _, loop in seen), seen


async def forward(hub: Hub, credentials: grpc.ChannelCredentials, site: str) -> relay_pb2.RelayAck:
    async with grpc.aio.secure_channel(f"127.0.0.1:{hub.port}", credentials) as channel:
        call = channel.stream_stream(
            "/tongchou.v1.RelayService/Forward",
            request_serializer=relay_pb2.RelayBatch.SerializeToString,
            response_deserializer=relay_pb2.RelayAck.FromString,
        )()
        await call.write(relay_pb2.RelayBatch(site=site, run_id="run", batch=1))
        ack = await asyncio.wait_for(call.read(), 10)
        call.cancel()
        if not isinstance(ack, relay_pb2.RelayAck):
            raise AssertionError(f"stream ended: {await call.code()} {await call.details()}")
        return ack


async def test_a_relays_stream_is_checked_off_the_loop(
    tls_hub: Hub, ca: CertificateAuthority
) -> None:
    seen = spy(tls_hub)
    tls = client_tls(ca, "relay", "site-r")
    await forward(tls_hub, tls.channel_credentials(), "site-r")
    assert seen == [("site-r", False)]
    assert tls_hub.credentials is not None
    assert tls_hub.credentials.revoke(identity_of(tls.cert).serial, "site-r", "gateway stolen")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await forward(tls_hub, tls.channel_credentials(), "site-r")
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "relay:site-r was revoked" in (err.value.details() or "")
    assert seen == [("site-r", False), ("site-r", False)]
