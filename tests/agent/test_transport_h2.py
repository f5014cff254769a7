"""The pure-Python gRPC client (agent/transport/via_h2.py) against a real grpc.aio server:
statuses, a clean end, messages larger than HTTP/2's windows both ways, and a hub that is
not there."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from agent.transport import RpcError
from agent.transport.via_h2 import Connection

ECHO = "/test.Echo/Echo"
REFUSE = "/test.Echo/Refuse"
ONCE = "/test.Echo/Once"


async def echo(requests: AsyncIterator[bytes], context: Any) -> AsyncIterator[bytes]:
    async for message in requests:
        yield message[::-1]


async def refuse(requests: AsyncIterator[bytes], context: Any) -> AsyncIterator[bytes]:
    await context.abort(grpc.StatusCode.PERMISSION_DENIED, "node b is not node a: 节点不符")
    yield b""  # never reached


async def once(requests: AsyncIterator[bytes], context: Any) -> AsyncIterator[bytes]:
    async for message in requests:
        yield message
        return


@pytest.fixture
async def server() -> AsyncIterator[str]:
    handlers: dict[str, grpc.RpcMethodHandler[bytes, bytes]] = {
        name: grpc.stream_stream_rpc_method_handler(fn)
        for name, fn in (("Echo", echo), ("Refuse", refuse), ("Once", once))
    }
    srv = grpc.aio.server()
    srv.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Echo", handlers),))
    port = srv.add_insecure_port("127.0.0.1:0")
    await srv.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await srv.stop(None)


async def test_messages_larger_than_the_windows_go_both_ways(server: str) -> None:
    connection = await Connection.open(server, None)
    try:
        sid = connection.start(ECHO)
        for size in (0, 1, 70_000, 300_000):  # the initial HTTP/2 window is 65,535 bytes
            payload = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
            await connection.send(sid, payload)
            assert await connection.receive(sid) == payload[::-1]
    finally:
        await connection.close()


async def test_an_error_status_names_its_code_and_message(server: str) -> None:
    connection = await Connection.open(server, None)
    try:
        sid = connection.start(REFUSE)
        await connection.send(sid, b"report")
        with pytest.raises(RpcError) as err:
            await connection.receive(sid)
        assert err.value.code == "PERMISSION_DENIED"
        assert err.value.details == "node b is not node a: 节点不符"
        unknown = connection.start("/test.Echo/Nothing")
        await connection.send(unknown, b"?", end=True)
        with pytest.raises(RpcError) as missing:
            await connection.receive(unknown)
        assert missing.value.code == "UNIMPLEMENTED"
    finally:
        await connection.close()


async def test_a_stream_the_hub_ends_with_ok_reads_none(server: str) -> None:
    connection = await Connection.open(server, None)
    try:
        sid = connection.start(ONCE)
        await connection.send(sid, b"one")
        assert await connection.receive(sid) == b"one"
        assert await connection.receive(sid) is None
        assert await connection.receive(sid) is None  # and stays ended
    finally:
        await connection.close()


async def test_no_hub_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: refused
        with pytest.raises(RpcError) as err:
            await Connection.open(f"127.0.0.1:{port}", None)
    assert err.value.code == "UNAVAILABLE"
    assert f"127.0.0.1:{port}" in err.value.details
