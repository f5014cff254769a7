"""The grpcio transport: gRPC's C core (`grpc.aio`), where a grpcio wheel exists for the CPU."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc

from agent.transport import CONNECT, JOIN, RENEW, Credentials, ReportStream, RpcError
from tongchou.v1 import agent_pb2, security_pb2

CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.enable_retries", 0),
]


def rpc_error(err: grpc.aio.AioRpcError) -> RpcError:
    code = err.code()
    return RpcError(code.name if code else "UNKNOWN", err.details() or "")


def channel(target: str, credentials: Credentials | None) -> grpc.aio.Channel:
    if credentials is None:
        return grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS)
    tls = grpc.ssl_channel_credentials(
        root_certificates=credentials.ca,
        private_key=credentials.key or None,
        certificate_chain=credentials.cert or None,
    )
    return grpc.aio.secure_channel(target, tls, options=CHANNEL_OPTIONS)


class _Stream:
    def __init__(
        self, call: grpc.aio.StreamStreamCall[agent_pb2.NodeReport, agent_pb2.ReportAck]
    ) -> None:
        self._call = call
        self._ended = False

    async def write(self, report: agent_pb2.NodeReport) -> None:
        try:
            await self._call.write(report)
        except asyncio.InvalidStateError:  # the hub ended the call with OK
            self._ended = True
        except grpc.aio.AioRpcError as err:
            raise rpc_error(err) from None

    async def read(self) -> agent_pb2.ReportAck | None:
        if self._ended:
            return None
        try:
            ack = await self._call.read()
        except grpc.aio.AioRpcError as err:
            raise rpc_error(err) from None
        return ack if isinstance(ack, agent_pb2.ReportAck) else None


class GrpcioTransport:
    name = "grpcio"

    @asynccontextmanager
    async def connect(
        self, target: str, credentials: Credentials | None
    ) -> AsyncIterator[ReportStream]:
        async with channel(target, credentials) as chan:
            call: grpc.aio.StreamStreamCall[agent_pb2.NodeReport, agent_pb2.ReportAck]
            call = chan.stream_stream(
                CONNECT,
                request_serializer=agent_pb2.NodeReport.SerializeToString,
                response_deserializer=agent_pb2.ReportAck.FromString,
            )()  # type: ignore[assignment]  # the stubs type the request as Message
            try:
                yield _Stream(call)
            finally:
                call.cancel()

    async def join(
        self, target: str, ca: bytes, request: security_pb2.JoinRequest, timeout: float
    ) -> security_pb2.JoinResponse:
        return await self._unary(target, Credentials(ca), JOIN, request, timeout)

    async def renew(
        self,
        target: str,
        credentials: Credentials,
        request: security_pb2.RenewRequest,
        timeout: float,
    ) -> security_pb2.JoinResponse:
        return await self._unary(target, credentials, RENEW, request, timeout)

    async def _unary(
        self,
        target: str,
        credentials: Credentials,
        method: str,
        request: security_pb2.JoinRequest | security_pb2.RenewRequest,
        timeout: float,
    ) -> security_pb2.JoinResponse:
        async with channel(target, credentials) as chan:
            call = chan.unary_unary(
                method,
                request_serializer=type(request).SerializeToString,
                response_deserializer=security_pb2.JoinResponse.FromString,
            )
            try:
                answer: security_pb2.JoinResponse = await call(request, timeout=timeout)
            except grpc.aio.AioRpcError as err:
                raise rpc_error(err) from None
        return answer


TRANSPORT = GrpcioTransport()
