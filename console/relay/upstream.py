"""The relay's one stream to the hub: batches out, acknowledgements back, resent after a break."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import grpc

from console.relay.agents import Verdicts
from console.relay.buffer import Buffer, Item
from console.relay.metrics import RelayMetrics
from tongchou.targets import channel_target
from tongchou.v1 import agent_pb2, relay_pb2

log = logging.getLogger("tongchou.relay.upstream")

CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.enable_retries", 0),
    ("grpc.max_send_message_length", 16 * 1024 * 1024),
]


@dataclass(frozen=True, slots=True)
class UpstreamSettings:
    hub: str  # one or several host:port, comma-separated
    site: str
    credentials: grpc.ChannelCredentials | None  # None: plaintext (--insecure)
    batch_max: int = 500
    batch_wait: float = 0.25  # seconds a batch waits to fill
    window: int = 4  # batches sent and not yet acknowledged
    backoff_initial: float = 0.5
    backoff_max: float = 15.0
    ack_timeout: float = 30.0


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


# The hub takes messages of up to 4 MiB; a batch stays well under it (a report is at most
# 64 KiB, and each carries a few bytes of framing).
MAX_BATCH_BYTES = 3 * 1024 * 1024

_REPORTS_TAG = bytes([(4 << 3) | 2])  # RelayBatch.reports: field 4, length-delimited


def encode_batch(head: relay_pb2.RelayBatch, items: list[Item]) -> bytes:
    """A RelayBatch whose reports are the agents' own bytes, not parsed and written again."""
    parts = [head.SerializeToString()]
    for _node, raw in items:
        parts.append(_REPORTS_TAG + _varint(len(raw)) + raw)
    return b"".join(parts)


class _Reconnect(Exception):
    def __init__(self, delay: float) -> None:
        super().__init__(delay)
        self.delay = delay


class Upstream:
    """Forwards the buffer to the hub until stopped; what the hub has not acknowledged when a
    stream breaks goes back in front of the buffer and is sent again (the hub skips repeats)."""

    def __init__(
        self, settings: UpstreamSettings, buffer: Buffer, verdicts: Verdicts, metrics: RelayMetrics
    ) -> None:
        self.settings = settings
        self.buffer = buffer
        self.verdicts = verdicts
        self.metrics = metrics
        self.run_id = uuid.uuid4().hex[:16]
        self.connected = asyncio.Event()
        self.connected_hook: Callable[[], None] = lambda: None
        self._batch = 0
        self._inflight: deque[tuple[int, list[Item]]] = deque()
        self._rng = random.Random()

    async def run(self, stop: asyncio.Event) -> None:
        attempt = 0
        while not stop.is_set():
            delay = 0.0
            try:
                await self._session(stop)
                attempt = 0
            except _Reconnect as asked:
                delay = asked.delay
            except (grpc.aio.AioRpcError, TimeoutError, ConnectionError) as err:
                log.warning("hub stream ended: %s", _describe(err))
            finally:
                self._broken()
            if stop.is_set():
                return
            if not delay:
                ceiling = min(self.settings.backoff_max, self.settings.backoff_initial * 2**attempt)
                delay = self._rng.uniform(self.settings.backoff_initial / 2, ceiling)
                attempt = min(attempt + 1, 30)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)

    def _broken(self) -> None:
        self.connected.clear()
        self.metrics.hub_connected.set(0)
        unacked = [item for _batch, items in self._inflight for item in items]
        self._inflight.clear()
        if unacked:
            self.buffer.requeue(unacked)
            self.metrics.buffered.set(len(self.buffer))

    async def _session(self, stop: asyncio.Event) -> None:
        target, options = channel_target(self.settings.hub, shuffle=self._rng)
        options = [*CHANNEL_OPTIONS, *options]
        credentials = self.settings.credentials
        channel = (
            grpc.aio.secure_channel(target, credentials, options=options)
            if credentials is not None
            else grpc.aio.insecure_channel(target, options=options)
        )
        async with channel:
            call: grpc.aio.StreamStreamCall[bytes, relay_pb2.RelayAck] = channel.stream_stream(
                "/tongchou.v1.RelayService/Forward",
                request_serializer=None,
                response_deserializer=relay_pb2.RelayAck.FromString,
            )()
            window = asyncio.Semaphore(self.settings.window)
            sender = asyncio.create_task(self._send(call, window, stop), name="relay-send")
            try:
                await self._read(call, window, sender)
            finally:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
                    await sender
                call.cancel()

    async def _send(
        self,
        call: grpc.aio.StreamStreamCall[bytes, relay_pb2.RelayAck],
        window: asyncio.Semaphore,
        stop: asyncio.Event,
    ) -> None:
        """Sends batches while the window allows; after `stop`, what is left, then closes."""
        settings = self.settings
        while True:
            if stop.is_set() and not len(self.buffer):
                await call.done_writing()
                return
            await self._first_report(stop)
            if len(self.buffer) < settings.batch_max and not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), settings.batch_wait)
            items = self.buffer.take(settings.batch_max, MAX_BATCH_BYTES)
            if not items:
                continue
            await window.acquire()
            self._batch += 1
            head = relay_pb2.RelayBatch(
                site=settings.site,
                run_id=self.run_id,
                batch=self._batch,
                dropped_total=self.buffer.dropped,
            )
            self._inflight.append((self._batch, items))
            self.metrics.buffered.set(len(self.buffer))
            await call.write(encode_batch(head, items))
            self.metrics.batches.inc()

    async def _first_report(self, stop: asyncio.Event) -> None:
        """Waits for a report (or for `stop`)."""
        if len(self.buffer) or stop.is_set():
            return
        waiter = asyncio.create_task(self.buffer.wait())
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in (waiter, stopper):
            task.cancel()

    async def _read(
        self,
        call: grpc.aio.StreamStreamCall[bytes, relay_pb2.RelayAck],
        window: asyncio.Semaphore,
        sender: asyncio.Task[None],
    ) -> None:
        """Reads acknowledgements until the hub closes the stream or the sender finishes."""
        while True:
            read = asyncio.ensure_future(call.read())
            await asyncio.wait({read, sender}, return_when=asyncio.FIRST_COMPLETED)
            if not read.done():
                error = sender.exception()
                if error is not None:
                    read.cancel()
                    raise error
                if not self._inflight:  # stopped, and everything was acknowledged
                    read.cancel()
                    return
                ack = await asyncio.wait_for(read, self.settings.ack_timeout)
            else:
                ack = read.result()
            if ack is grpc.aio.EOF:
                if self._inflight:
                    raise ConnectionError("the hub closed the stream")
                return
            assert isinstance(ack, relay_pb2.RelayAck)
            self._acknowledged(ack)
            window.release()

    def _acknowledged(self, ack: relay_pb2.RelayAck) -> None:
        if not self.connected.is_set():
            self.connected.set()
            self.metrics.hub_connected.set(1)
            self.connected_hook()
            log.info("connected to the hub (%s) for site %s", self.settings.hub, self.settings.site)
        while self._inflight and self._inflight[0][0] < ack.batch:
            self._inflight.popleft()  # an answer was skipped: cannot happen on one stream
        if self._inflight and self._inflight[0][0] == ack.batch:
            _batch, items = self._inflight.popleft()
            self.metrics.forwarded.inc(ack.accepted)
            self.metrics.refused.inc(max(0, len(items) - ack.accepted))
        for refusal in ack.refusals:
            code = _status(refusal.code)
            self.verdicts.refused[refusal.node] = (code, refusal.message)
            log.warning("the hub refused node %s: %s", refusal.node, refusal.message)
        self.verdicts.interval = ack.report_interval.ToNanoseconds() / 1e9 or self.verdicts.interval
        for command in ack.commands:
            if command.kind == agent_pb2.Command.KIND_RECONNECT:
                raise _Reconnect(command.delay.ToNanoseconds() / 1e9)


def _status(code: int) -> grpc.StatusCode:
    for status in grpc.StatusCode:
        if status.value[0] == code:
            return status
    return grpc.StatusCode.PERMISSION_DENIED


def _describe(err: BaseException) -> str:
    if isinstance(err, grpc.aio.AioRpcError):
        return f"{err.code().name}: {err.details()}"
    return str(err) or type(err).__name__
