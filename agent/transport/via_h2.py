"""The pure-Python transport: gRPC's HTTP/2 mapping over the `h2` library and the `ssl` module.

gRPC over HTTP/2 is a POST to `/package.Service/Method` with `content-type: application/grpc`;
each message is framed as one flag byte and a 4-byte big-endian length; the status comes in the
trailers (`grpc-status`, `grpc-message`). `h2` keeps the HTTP/2 state (HPACK, flow control,
settings); this module moves bytes between it and an asyncio socket. It needs no compiled
library, so the agent runs on CPUs no grpcio wheel is built for (loongarch64, sw_64), and it
holds a fraction of grpcio's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions

from agent.transport import CONNECT, JOIN, RENEW, Credentials, ReportStream, RpcError
from tongchou import __version__
from tongchou.v1 import agent_pb2, security_pb2

KEEPALIVE = 30.0  # a ping every 30 s, as the grpcio transport sends
KEEPALIVE_TIMEOUT = 10.0
CLOSE_TIMEOUT = 1.0
MAX_MESSAGE = 4 << 20  # what the hub may send in one message
_READ = 65536
# https://grpc.github.io/grpc/core/md_doc_statuscodes.html
_CODES = (
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
)
# An HTTP status without a grpc-status, per gRPC's http-grpc-status-mapping.md.
_HTTP_CODES = {
    400: "INTERNAL",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "UNIMPLEMENTED",
    429: "UNAVAILABLE",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "UNAVAILABLE",
}
_PERCENT = re.compile(rb"%([0-9A-Fa-f]{2})")


def split_target(target: str) -> tuple[str, int]:
    """("host", port) from "host:port" or "[v6]:port"."""
    host, _, port = target.rpartition(":")
    return host.strip("[]"), int(port)


def tls_context(credentials: Credentials) -> ssl.SSLContext:
    """A client context that checks the hub against `ca` and, with a pair, presents it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the hub's name and chain
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_verify_locations(cadata=credentials.ca.decode())
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


def status_of(headers: dict[bytes, bytes]) -> tuple[str, str] | None:
    """(code name, message) from trailers (or a trailers-only response); None without one."""
    raw = headers.get(b"grpc-status")
    if raw is None:
        return None
    try:
        code = _CODES[int(raw)]
    except (ValueError, IndexError):
        code = "UNKNOWN"
    message = _PERCENT.sub(
        lambda m: bytes([int(m.group(1), 16)]), headers.get(b"grpc-message", b"")
    )
    return code, message.decode("utf-8", errors="replace")


def frame(payload: bytes) -> bytes:
    """One uncompressed gRPC message: flag 0, length, bytes."""
    return b"\x00" + len(payload).to_bytes(4, "big") + payload


class _Call:
    """One stream's received side: messages as they complete, then the status."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.buffer = bytearray()
        self.headers: dict[bytes, bytes] = {}
        self.status: tuple[str, str] | None = None
        self.ended = False

    def data(self, chunk: bytes) -> None:
        self.buffer += chunk
        while len(self.buffer) >= 5:
            compressed, size = self.buffer[0], int.from_bytes(self.buffer[1:5], "big")
            if compressed:
                self.finish(("INTERNAL", "the hub sent a compressed message (none was offered)"))
                return
            if size > MAX_MESSAGE:
                self.finish(("RESOURCE_EXHAUSTED", f"a {size}-byte message from the hub"))
                return
            if len(self.buffer) < 5 + size:
                return
            self.messages.put_nowait(bytes(self.buffer[5 : 5 + size]))
            del self.buffer[: 5 + size]

    def finish(self, status: tuple[str, str]) -> None:
        """The call is over: a status once (the first one counts), then the end marker."""
        if self.ended:
            return
        self.ended = True
        self.status = status
        self.messages.put_nowait(None)


class Connection:
    """One HTTP/2 connection to the hub: a reader task, keepalive pings, and calls on it."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, authority: str, tls: bool
    ) -> None:
        self._reader, self._writer = reader, writer
        self._authority = authority
        self._scheme = "https" if tls else "http"
        self._h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding=None)
        )
        self._calls: dict[int, _Call] = {}
        self._window = asyncio.Event()
        self._pong = asyncio.Event()
        self._closed: tuple[str, str] | None = None
        self._h2.initiate_connection()
        self._flush()
        self._tasks = [
            asyncio.create_task(self._read_loop(), name="agent-h2-reader"),
            asyncio.create_task(self._keepalive(), name="agent-h2-keepalive"),
        ]

    @classmethod
    async def open(cls, target: str, credentials: Credentials | None) -> Connection:
        host, port = split_target(target)
        try:
            context = tls_context(credentials) if credentials is not None else None
        except (ssl.SSLError, ValueError) as err:
            raise RpcError("UNAVAILABLE", f"cannot use the TLS certificates: {err}") from None
        try:
            reader, writer = await asyncio.open_connection(
                host, port, ssl=context, server_hostname=host if context else None, limit=_READ
            )
        except (OSError, EOFError) as err:  # refused, unreachable, TLS handshake refused
            raise RpcError("UNAVAILABLE", f"cannot connect to {target}: {err}") from None
        if context is not None:
            tls = writer.get_extra_info("ssl_object")
            if tls is None or tls.selected_alpn_protocol() != "h2":
                writer.close()
                raise RpcError("UNAVAILABLE", f"{target} does not speak HTTP/2 (ALPN h2)")
        return cls(reader, writer, target, context is not None)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._closed is None:
            with contextlib.suppress(h2.exceptions.ProtocolError):
                self._h2.close_connection()
                self._flush()
        with contextlib.suppress(OSError, ssl.SSLError):
            await self._writer.drain()
        self._writer.close()
        try:  # a gRPC server need not answer TLS close_notify: do not wait for it long
            await asyncio.wait_for(self._writer.wait_closed(), CLOSE_TIMEOUT)
        except (TimeoutError, OSError, ssl.SSLError):
            self._writer.transport.abort()

    # -- calls -----------------------------------------------------------------------------

    def start(self, path: str, timeout: float | None = None) -> int:
        """Opens a stream for `path`; returns its id."""
        self._check()
        sid = self._h2.get_next_available_stream_id()
        headers = [
            (b":method", b"POST"),
            (b":scheme", self._scheme.encode()),
            (b":path", path.encode()),
            (b":authority", self._authority.encode()),
            (b"content-type", b"application/grpc"),
            (b"te", b"trailers"),
            (b"user-agent", f"tongchou-agent/{__version__} h2".encode()),
        ]
        if timeout is not None:
            headers.append((b"grpc-timeout", f"{max(1, int(timeout * 1000))}m".encode()))
        self._calls[sid] = _Call()
        self._h2.send_headers(sid, headers)
        self._flush()
        return sid

    async def send(self, sid: int, payload: bytes, *, end: bool = False) -> None:
        """Sends one message, as the stream's and the connection's windows allow."""
        data = memoryview(frame(payload))
        while data:
            self._check(sid)
            allowed = min(self._h2.local_flow_control_window(sid), self._h2.max_outbound_frame_size)
            if allowed <= 0:
                self._window.clear()
                await self._window.wait()
                continue
            chunk, data = data[:allowed], data[allowed:]
            self._h2.send_data(sid, chunk, end_stream=end and not data)
            self._flush()
        await self._drain()

    async def receive(self, sid: int) -> bytes | None:
        """The next message, or None at the end with OK; raises RpcError for any other end."""
        call = self._calls[sid]
        message = await call.messages.get()
        if message is not None:
            return message
        call.messages.put_nowait(None)  # later reads see the end too
        code, details = call.status or ("UNKNOWN", "the stream ended without a status")
        if code != "OK":
            raise RpcError(code, details)
        return None

    def cancel(self, sid: int) -> None:
        call = self._calls.pop(sid, None)
        if call is None or call.ended or self._closed is not None:
            return
        with contextlib.suppress(h2.exceptions.ProtocolError, KeyError):
            self._h2.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
            self._flush()

    # -- the connection --------------------------------------------------------------------

    def _check(self, sid: int | None = None) -> None:
        if self._closed is not None:
            raise RpcError(*self._closed)
        if sid is not None:
            call = self._calls.get(sid)
            if call is not None and call.ended:
                raise RpcError(*(call.status or ("UNKNOWN", "the stream ended")))

    def _flush(self) -> None:
        data = self._h2.data_to_send()
        if data:
            self._writer.write(data)

    async def _drain(self) -> None:
        try:
            await self._writer.drain()
        except (OSError, ssl.SSLError) as err:
            self._fail("UNAVAILABLE", f"connection to {self._authority} lost: {err}")
            self._check()

    def _fail(self, code: str, details: str) -> None:
        if self._closed is None:
            self._closed = (code, details)
        for call in self._calls.values():
            call.finish((code, details))
        self._window.set()
        self._pong.set()

    async def _read_loop(self) -> None:
        try:
            while self._closed is None:
                data = await self._reader.read(_READ)
                if not data:
                    self._fail("UNAVAILABLE", f"{self._authority} closed the connection")
                    return
                for event in self._h2.receive_data(data):
                    self._on(event)
                self._flush()
        except (OSError, ssl.SSLError) as err:
            self._fail("UNAVAILABLE", f"connection to {self._authority} lost: {err}")
        except h2.exceptions.ProtocolError as err:
            self._fail("INTERNAL", f"HTTP/2 protocol error from {self._authority}: {err}")
        except Exception as err:  # anything else still ends every call, never a silent hang
            self._fail("INTERNAL", f"reading from {self._authority} failed: {err!r}")
            raise

    def _on(self, event: h2.events.Event) -> None:
        sid = getattr(event, "stream_id", None)
        call = self._calls.get(sid) if sid else None
        if isinstance(event, h2.events.ResponseReceived) and call is not None:
            call.headers = dict(event.headers or [])
            status = int(call.headers.get(b":status", b"0"))
            if status != 200 and b"grpc-status" not in call.headers:
                code = _HTTP_CODES.get(status, "UNKNOWN")
                call.finish((code, f"the hub answered HTTP {status}"))
        elif isinstance(event, h2.events.DataReceived):
            if event.flow_controlled_length and sid:
                # the hub sends small acks: take them in at once, the windows reopen
                with contextlib.suppress(h2.exceptions.StreamClosedError):
                    self._h2.acknowledge_received_data(event.flow_controlled_length, sid)
            if call is not None and event.data:
                call.data(event.data)
        elif isinstance(event, h2.events.TrailersReceived) and call is not None:
            trailers = dict(event.headers or [])
            call.finish(status_of(trailers) or ("UNKNOWN", "trailers without grpc-status"))
        elif isinstance(event, h2.events.StreamEnded) and call is not None:
            call.finish(
                status_of(call.headers) or ("INTERNAL", "the stream ended without trailers")
            )
        elif isinstance(event, h2.events.StreamReset) and call is not None:
            call.finish(
                (
                    "CANCELLED" if event.remote_reset else "INTERNAL",
                    f"stream reset ({event.error_code!r})",
                )
            )
        elif isinstance(event, h2.events.WindowUpdated | h2.events.RemoteSettingsChanged):
            self._window.set()
        elif isinstance(event, h2.events.PingAckReceived):
            self._pong.set()
        elif isinstance(event, h2.events.ConnectionTerminated):
            self._fail("UNAVAILABLE", f"{self._authority} closed the connection (GOAWAY)")

    async def _keepalive(self) -> None:
        while self._closed is None:
            await asyncio.sleep(KEEPALIVE)
            if self._closed is not None:
                return
            self._pong.clear()
            self._h2.ping(os.urandom(8))
            self._flush()
            try:
                await asyncio.wait_for(self._pong.wait(), KEEPALIVE_TIMEOUT)
            except TimeoutError:
                self._fail("UNAVAILABLE", f"{self._authority} did not answer a ping")
                self._writer.close()


class _Stream:
    def __init__(self, connection: Connection, sid: int) -> None:
        self._connection, self._sid = connection, sid

    async def write(self, report: agent_pb2.NodeReport) -> None:
        await self._connection.send(self._sid, report.SerializeToString())

    async def read(self) -> agent_pb2.ReportAck | None:
        data = await self._connection.receive(self._sid)
        return None if data is None else agent_pb2.ReportAck.FromString(data)


class H2Transport:
    name = "h2"

    @asynccontextmanager
    async def connect(
        self, target: str, credentials: Credentials | None
    ) -> AsyncIterator[ReportStream]:
        connection = await Connection.open(target, credentials)
        try:
            sid = connection.start(CONNECT)
            try:
                yield _Stream(connection, sid)
            finally:
                connection.cancel(sid)
        finally:
            await connection.close()

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
        try:
            async with asyncio.timeout(timeout):
                connection = await Connection.open(target, credentials)
                try:
                    sid = connection.start(method, timeout)
                    await connection.send(sid, request.SerializeToString(), end=True)
                    data = await connection.receive(sid)
                    if data is None:
                        raise RpcError("INTERNAL", f"{method} ended without an answer")
                    await connection.receive(sid)  # the status: raises unless OK
                finally:
                    await connection.close()
        except TimeoutError:
            raise RpcError("DEADLINE_EXCEEDED", f"no answer within {timeout:g}s") from None
        return security_pb2.JoinResponse.FromString(data)


TRANSPORT = H2Transport()
