"""Several hub addresses as one gRPC target, and a channel that moves on when a hub goes."""

from __future__ import annotations

import random

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from tongchou.targets import channel_target, split_addresses


def test_one_address_is_used_as_given() -> None:
    assert channel_target("hub.tongchou.svc:7470") == ("hub.tongchou.svc:7470", [])


def test_several_addresses_become_one_target() -> None:
    target, options = channel_target("127.0.0.1:7470, 127.0.0.2:7471,[::1]:7472")
    assert target == "ipv4:127.0.0.1:7470,127.0.0.2:7471"
    assert ("grpc.ssl_target_name_override", "127.0.0.1") in options
    assert channel_target("[::1]:1,[::2]:2")[0] == "ipv6:[::1]:1,[::2]:2"


def test_shuffled_for_agents_but_named_by_the_first() -> None:
    seen = {channel_target("10.0.0.1:1,10.0.0.2:1", shuffle=random.Random(s))[0] for s in range(20)}
    assert seen == {"ipv4:10.0.0.1:1,10.0.0.2:1", "ipv4:10.0.0.2:1,10.0.0.1:1"}
    _, options = channel_target("10.0.0.1:1,10.0.0.2:1", shuffle=random.Random(3))
    assert ("grpc.ssl_target_name_override", "10.0.0.1") in options


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no hub address given"),
        ("hub", "'hub' must be host:port"),
        ("a:1,b:port", "'b:port' must be host:port"),
        ("a:1,:7", "':7' must be host:port"),
        ("a:99999", "'a:99999' must be host:port"),
    ],
)
def test_bad_addresses_are_named(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        split_addresses(text)


async def _health_server() -> tuple[grpc.aio.Server, int]:
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


async def test_the_channel_moves_on_when_its_hub_goes() -> None:
    first, p1 = await _health_server()
    second, p2 = await _health_server()
    target, options = channel_target(f"127.0.0.1:{p1},127.0.0.1:{p2}")
    try:
        async with grpc.aio.insecure_channel(target, options=options) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            ok = health_pb2.HealthCheckResponse.SERVING
            assert (await stub.Check(health_pb2.HealthCheckRequest(), timeout=10)).status == ok
            await first.stop(None)
            answered = 0
            for _ in range(50):  # the first calls may see the closing connection
                try:
                    reply = await stub.Check(
                        health_pb2.HealthCheckRequest(), timeout=5, wait_for_ready=True
                    )
                except grpc.aio.AioRpcError:
                    continue
                answered += reply.status == ok
                if answered == 3:
                    break
            assert answered == 3
    finally:
        await first.stop(None)
        await second.stop(None)
