"""The grpclib transport: gRPC in pure Python (grpclib over h2) with the standard `ssl` module.

It needs no compiled gRPC library, so the agent runs on CPUs no grpcio wheel is built for
(loongarch64, sw_64), and it holds less memory than grpcio's C core.
"""

from __future__ import annotations

import contextlib
import os
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

from google.protobuf.message import Message
from grpclib.client import Channel, Stream
from grpclib.config import Configuration
from grpclib.const import Cardinality
from grpclib.exceptions import GRPCError, ProtocolError, StreamTerminatedError

from agent.transport import CONNECT, JOIN, RENEW, Credentials, ReportStream, RpcError
from tongchou.v1 import agent_pb2, security_pb2

# The same keepalive as the grpcio transport: a ping every 30 s, even with no call open.
CONFIG = Configuration(
    _keepalive_time=30.0,
    _keepalive_timeout=10.0,
    _keepalive_permit_without_calls=True,
    _http2_max_pings_without_data=0,
)
_FAILED = (StreamTerminatedError, ProtocolError, OSError, EOFError)
_Req = TypeVar("_Req", bound=Message)
_Rep = TypeVar("_Rep", bound=Message)


def split_target(target: str) -> tuple[str, int]:
    """("host", port) from "host:port" or "[v6]:port"."""
    host, _, port = target.rpartition(":")
    return host.strip("[]"), int(port)


def tls_context(credentials: Credentials) -> ssl.SSLContext:
    """A client context that checks the hub against `ca` and, with a pair, presents it."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=credentials.ca.decode())
    context.set_alpn_protocols(["h2"])
    if credentials.cert:
        # ssl reads a certificate chain only from a path: hand it an anonymous in-memory
        # file, so the key is never written to disk by the transport.
        fd = os.memfd_create("tongchou-tls", os.MFD_CLOEXEC)
        try:
            os.write(fd, credentials.cert.rstrip(b"\n") + b"\n" + credentials.key)
            context.load_cert_chain(f"/proc/self/fd/{fd}")
        finally:
            os.close(fd)
    return context


def channel(target: str, credentials: Credentials | None) -> Channel:
    host, port = split_target(target)
    try:
        context = tls_context(credentials) if credentials is not None else None
    except (ssl.SSLError, ValueError) as err:
        raise RpcError("UNAVAILABLE", f"cannot use the TLS certificates: {err}") from None
    return Channel(host, port, ssl=context, config=CONFIG)


def rpc_error(err: BaseException) -> RpcError:
    if isinstance(err, GRPCError):
        return RpcError(err.status.name, err.message or "")
    return RpcError("UNAVAILABLE", str(err) or type(err).__name__)


class _Stream:
    """Raises grpclib's own errors; `connect` turns them into RpcError once the stream has
    read the hub's status (a stream the hub reset after an error status carries it)."""

    def __init__(self, stream: Stream[agent_pb2.NodeReport, agent_pb2.ReportAck]) -> None:
        self._stream = stream

    async def write(self, report: agent_pb2.NodeReport) -> None:
        await self._stream.send_message(report)

    async def read(self) -> agent_pb2.ReportAck | None:
        ack = await self._stream.recv_message()
        if ack is None:  # the hub ended the stream: OK, or an error status in the trailers
            await self._stream.recv_trailing_metadata()
        return ack


class GrpclibTransport:
    name = "grpclib"

    @asynccontextmanager
    async def connect(
        self, target: str, credentials: Credentials | None
    ) -> AsyncIterator[ReportStream]:
        chan = channel(target, credentials)
        try:
            async with chan.request(
                CONNECT, Cardinality.STREAM_STREAM, agent_pb2.NodeReport, agent_pb2.ReportAck
            ) as stream:
                await stream.send_request()
                yield _Stream(stream)
                with contextlib.suppress(ProtocolError, StreamTerminatedError, OSError):
                    await stream.cancel()
        except TimeoutError:
            raise
        except (GRPCError, *_FAILED) as err:
            raise rpc_error(err) from None
        finally:
            chan.close()

    async def join(
        self, target: str, ca: bytes, request: security_pb2.JoinRequest, timeout: float
    ) -> security_pb2.JoinResponse:
        return await _unary(
            target, Credentials(ca), JOIN, request, security_pb2.JoinResponse, timeout
        )

    async def renew(
        self,
        target: str,
        credentials: Credentials,
        request: security_pb2.RenewRequest,
        timeout: float,
    ) -> security_pb2.JoinResponse:
        return await _unary(target, credentials, RENEW, request, security_pb2.JoinResponse, timeout)


async def _unary(
    target: str,
    credentials: Credentials,
    method: str,
    request: _Req,
    reply: type[_Rep],
    timeout: float,
) -> _Rep:
    chan = channel(target, credentials)
    try:
        async with chan.request(
            method, Cardinality.UNARY_UNARY, type(request), reply, timeout=timeout
        ) as stream:
            await stream.send_message(request, end=True)
            answer = await stream.recv_message()
    except (GRPCError, *_FAILED) as err:
        raise rpc_error(err) from None
    except TimeoutError:
        raise RpcError("DEADLINE_EXCEEDED", f"no answer within {timeout:g}s") from None
    finally:
        chan.close()
    if answer is None:
        raise RpcError("INTERNAL", f"{method} ended without an answer")
    return answer


TRANSPORT = GrpclibTransport()
