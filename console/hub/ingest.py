"""AgentService.Connect: takes agents' report streams, checks each report, and answers it."""

from __future__ import annotations

import itertools
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from console.hub import validate
from console.hub.flusher import Flusher
from console.hub.inventory import Inventory, NodeEntry
from console.hub.metrics import HubMetrics
from console.hub.validate import ReportRejected
from console.model.inventory import NodeState
from console.security.binding import NodeBinding
from console.security.ratelimit import TokenBucket
from tongchou.v1 import agent_pb2

log = logging.getLogger("tongchou.hub.ingest")


class Pacer:
    """The report interval to ask of agents: stretched so the whole fleet stays under a rate."""

    def __init__(self, base: float, max_rate: float) -> None:
        self.base = base
        self.max_rate = max_rate
        self.interval = base
        self._ack_tail = b""
        self._set(base)
        self._seconds: deque[tuple[int, int]] = deque(maxlen=61)
        self._started = 0

    def _set(self, interval: float) -> None:
        self.interval = interval
        ack = agent_pb2.ReportAck(accepted=True)
        ack.report_interval.FromNanoseconds(round(interval * 1e9))
        self._ack_tail = ack.SerializeToString()

    def adjust(self, live_nodes: int) -> float:
        """Like Nomad's heartbeat scaling: interval = max(base, nodes / max rate)."""
        wanted = max(self.base, live_nodes / self.max_rate if self.max_rate > 0 else 0.0)
        wanted = round(wanted, 1)
        if wanted != self.interval:
            self._set(wanted)
        return wanted

    def ack(self, sequence: int, commands: list[agent_pb2.Command] | None = None) -> bytes:
        """The answer to one report, serialized (the fixed part is cached)."""
        head = agent_pb2.ReportAck(sequence=sequence, commands=commands or [])
        return head.SerializeToString() + self._ack_tail

    def count(self, now: float) -> None:
        second = int(now)
        if not self._started:
            self._started = second
        if self._seconds and self._seconds[-1][0] == second:
            self._seconds[-1] = (second, self._seconds[-1][1] + 1)
        else:
            self._seconds.append((second, 1))

    def rate(self, now: float) -> float:
        """Reports per second over the last full minute (or since the first report, if sooner)."""
        newest = int(now) - 1
        window = [(s, n) for s, n in self._seconds if newest - 60 < s <= newest]
        if not window:
            return 0.0
        span = min(60, newest - self._started + 1) if self._started else 60
        return sum(n for _s, n in window) / max(1, span)


class AgentIngest:
    """One handler for all agent streams; each stream checks its own identity and sequence."""

    def __init__(
        self,
        inventory: Inventory,
        flusher: Flusher,
        metrics: HubMetrics,
        pacer: Pacer,
        *,
        max_report_bytes: int = validate.MAX_REPORT_BYTES,
    ) -> None:
        self.inventory = inventory
        self.flusher = flusher
        self.metrics = metrics
        self.pacer = pacer
        self.max_report_bytes = max_report_bytes
        self.draining = False
        self.binding: NodeBinding | None = None  # set when the hub runs mutual TLS
        self.max_stream_rate = 25.0  # reports/s on one stream (an agent's floor is 50 ms)
        self._streams = itertools.count(1)

    def handler(self) -> grpc.GenericRpcHandler:
        """A generic handler taking raw bytes, so size is checked before parsing."""
        method: grpc.RpcMethodHandler[Any, Any] = grpc.stream_stream_rpc_method_handler(
            self.connect
        )
        return grpc.method_handlers_generic_handler("tongchou.v1.AgentService", {"Connect": method})

    async def connect(
        self, requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext[bytes, bytes]
    ) -> AsyncIterator[bytes]:
        stream = next(self._streams)
        peer = context.peer()
        first: agent_pb2.NodeReport | None = None
        self.metrics.streams.inc()
        bucket = TokenBucket(self.max_stream_rate, 2 * self.max_stream_rate)
        try:
            async for raw in requests:
                started = time.perf_counter()
                self.metrics.reports.inc()
                if not bucket.take(time.monotonic()):
                    self.metrics.rejected.labels("rate_limited").inc()
                    message = f"more than {self.max_stream_rate:g} reports/s on one stream"
                    log.warning("refused stream from %s: %s", peer, message)
                    await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, message)
                    return
                try:
                    report = self._parse(raw)
                    self._check(report, first)
                except ReportRejected as bad:
                    name = first.identity.node if first is not None else "?"
                    self.metrics.rejected.labels(bad.reason).inc()
                    log.warning("rejected report from %s (node %s): %s", peer, name, bad.message)
                    await context.abort(grpc.StatusCode.INVALID_ARGUMENT, bad.message)
                    return
                if first is None and self.binding is not None:
                    denial = self.binding.check(context, report.identity.node)
                    if denial is not None:
                        self.metrics.denied.labels(denial.reason).inc()
                        log.warning("refused stream from %s: %s", peer, denial.message)
                        await context.abort(grpc.StatusCode.PERMISSION_DENIED, denial.message)
                        return
                if first is None:
                    first = report
                owner = self.inventory.nodes.get(report.identity.node)
                if owner is not None and owner.stream > stream:
                    self.metrics.superseded.inc()
                    await context.abort(
                        grpc.StatusCode.ALREADY_EXISTS,
                        f"node {report.identity.node} now reports on a newer stream",
                    )
                    return
                now = time.time()
                if owner is None or owner.report.identity != report.identity:
                    # A new or relabelled node is acknowledged only once it is on disk.
                    row = NodeEntry(report.identity.node, report, NodeState.READY, now, now, 0.0)
                    if owner is not None:
                        row.first_seen = owner.first_seen
                    row.interval = self.pacer.interval
                    try:
                        await self.flusher.durable([row.stored()])
                    except Exception:
                        await context.abort(
                            grpc.StatusCode.UNAVAILABLE, "the hub cannot store the registration"
                        )
                        return
                self.inventory.accept(report, stream, now, self.pacer.interval)
                commands: list[agent_pb2.Command] = []
                if self.draining:
                    reconnect = agent_pb2.Command(kind=agent_pb2.Command.KIND_RECONNECT)
                    reconnect.delay.FromSeconds(5)
                    commands.append(reconnect)
                ack = self.pacer.ack(report.sequence, commands)
                self.pacer.count(now)
                self.metrics.ingest_seconds.observe(time.perf_counter() - started)
                yield ack
        finally:
            self.metrics.streams.dec()

    def _parse(self, raw: bytes) -> agent_pb2.NodeReport:
        if len(raw) > self.max_report_bytes:
            raise ReportRejected(
                "oversize", f"report of {len(raw)} bytes exceeds {self.max_report_bytes}"
            )
        try:
            return agent_pb2.NodeReport.FromString(raw)
        except DecodeError:
            raise ReportRejected("malformed", "report is not a valid NodeReport") from None

    def _check(self, report: agent_pb2.NodeReport, first: agent_pb2.NodeReport | None) -> None:
        """Full checks on a stream's first report; later ones only where they differ."""
        validate.check_envelope(report)
        ident = report.identity
        if first is None:
            validate.check_identity(ident)
        elif ident != first.identity:
            field = validate.name_change(first.identity, ident)
            raise ReportRejected(
                "identity_changed",
                f"identity.{field} changed mid-stream (node {first.identity.node})",
            )
        elif report.run_id != first.run_id:
            raise ReportRejected("identity_changed", "run_id changed mid-stream")
        entry = self.inventory.nodes.get(ident.node)
        previous = entry.report if entry is not None else None
        if previous is None or previous.capacity != report.capacity:
            validate.check_capacity(report.capacity)
        validate.check_usage(report.usage, report.capacity)
        if (
            previous is not None
            and previous.run_id == report.run_id
            and report.sequence <= previous.sequence
        ):
            raise ReportRejected(
                "sequence_backwards",
                f"sequence {report.sequence} is not after {previous.sequence} "
                f"(node {ident.node}, run {report.run_id})",
            )
