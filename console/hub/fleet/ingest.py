"""AgentService.Connect: takes agents' report streams, checks each report, and answers it."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from console.hub.fleet import validate
from console.hub.fleet.flusher import Flusher
from console.hub.fleet.inventory import Inventory, NodeEntry
from console.hub.fleet.pacing import Pacer
from console.hub.fleet.validate import ReportRejected
from console.hub.metrics import HubMetrics
from console.model.inventory import NodeState
from console.security.binding import NodeBinding
from console.security.ratelimit import TokenBucket
from tongchou.v1 import agent_pb2

log = logging.getLogger("tongchou.hub.ingest")


class _Refused(Exception):
    """Ends the stream with this status (counted and logged where it was decided)."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


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
                    raise _Refused(grpc.StatusCode.RESOURCE_EXHAUSTED, message)
                report = self._admit(raw, first, peer, context)
                if first is None:
                    first = report
                owner = self.inventory.nodes.get(report.identity.node)
                if owner is not None and owner.stream > stream:
                    self.metrics.superseded.inc()
                    message = f"node {report.identity.node} now reports on a newer stream"
                    raise _Refused(grpc.StatusCode.ALREADY_EXISTS, message)
                now = time.time()
                if owner is None or owner.report.identity != report.identity:
                    await self._register(report, owner, now)
                self.inventory.accept(report, stream, now, self.pacer.interval)
                ack = self.pacer.ack(report.sequence, self._commands())
                self.pacer.count(now)
                self.metrics.ingest_seconds.observe(time.perf_counter() - started)
                yield ack
        except _Refused as refused:
            await context.abort(refused.code, refused.message)
        finally:
            self.metrics.streams.dec()

    def _admit(
        self,
        raw: bytes,
        first: agent_pb2.NodeReport | None,
        peer: str,
        context: grpc.aio.ServicerContext[bytes, bytes],
    ) -> agent_pb2.NodeReport:
        """The report, parsed and checked; on a stream's first, the caller's certificate too."""
        try:
            report = self._parse(raw)
            self._check(report, first)
        except ReportRejected as bad:
            name = first.identity.node if first is not None else "?"
            self.metrics.rejected.labels(bad.reason).inc()
            log.warning("rejected report from %s (node %s): %s", peer, name, bad.message)
            raise _Refused(grpc.StatusCode.INVALID_ARGUMENT, bad.message) from None
        if first is None and self.binding is not None:
            denial = self.binding.check(context, report.identity.node)
            if denial is not None:
                self.metrics.denied.labels(denial.reason).inc()
                log.warning("refused stream from %s: %s", peer, denial.message)
                raise _Refused(grpc.StatusCode.PERMISSION_DENIED, denial.message)
        return report

    async def _register(
        self, report: agent_pb2.NodeReport, owner: NodeEntry | None, now: float
    ) -> None:
        """A new or relabelled node is acknowledged only once it is on disk."""
        row = NodeEntry(report.identity.node, report, NodeState.READY, now, now, 0.0)
        if owner is not None:
            row.first_seen = owner.first_seen
        row.interval = self.pacer.interval
        try:
            await self.flusher.durable([row.stored()])
        except Exception:
            message = "the hub cannot store the registration"
            raise _Refused(grpc.StatusCode.UNAVAILABLE, message) from None

    def _commands(self) -> list[agent_pb2.Command]:
        if not self.draining:
            return []
        reconnect = agent_pb2.Command(kind=agent_pb2.Command.KIND_RECONNECT)
        reconnect.delay.FromSeconds(5)
        return [reconnect]

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
