"""AgentService.Connect: takes agents' report streams, checks each report, and answers it."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from console.hub.fleet import validate
from console.hub.fleet.acks import Acks
from console.hub.fleet.claims import Claims
from console.hub.fleet.flusher import Flusher
from console.hub.fleet.hygiene import Hygiene, NodeRates, PeerStreams, peer_host
from console.hub.fleet.inventory import Inventory, NodeEntry
from console.hub.fleet.pacing import Pacer
from console.hub.fleet.validate import ReportRejected
from console.hub.metrics import HubMetrics
from console.model.inventory import Event, NodeState
from console.security.binding import NodeBinding
from console.security.tls import peer_identity
from console.store.audit import AuditEntry
from tongchou.ratelimit import TokenBucket
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
        acks: Acks,
        *,
        max_report_bytes: int = validate.MAX_REPORT_BYTES,
    ) -> None:
        self.inventory = inventory
        self.flusher = flusher
        self.metrics = metrics
        self.pacer = pacer
        self.acks = acks  # the answers' bytes, built by the hub's message builder
        self.max_report_bytes = max_report_bytes
        self.draining = False
        self.binding: NodeBinding | None = None  # set when the hub runs mutual TLS
        self.audit: Callable[[AuditEntry], None] = lambda _entry: None
        self.max_stream_rate = 25.0  # reports/s on one stream (an agent's floor is 50 ms)
        self.claims: Claims | None = None  # where declared nodes are, from the fleet documents
        self.hygiene = Hygiene()
        self.peers = PeerStreams(self.hygiene.max_streams_per_peer)
        self.node_rates = NodeRates(self.hygiene.max_node_rate)
        self.refused_claim: Callable[[str, str, str], None] = lambda _node, _peer, _why: None
        self.recheck_every = 30.0  # seconds between checks of an open stream's revocation
        self._streams = itertools.count(1)

    def guard_claims(
        self, hygiene: Hygiene, claims: Claims, refused: Callable[[str, str, str], None]
    ) -> None:
        """Takes the connection limits, and where declared nodes are (`refused` hears of a
        report that contradicts it: node, peer, why)."""
        self.hygiene = hygiene
        self.peers = PeerStreams(hygiene.max_streams_per_peer)
        self.node_rates = NodeRates(hygiene.max_node_rate)
        self.claims = claims
        self.refused_claim = refused

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
        host = peer_host(peer)
        first: agent_pb2.NodeReport | None = None
        if not self.peers.admit(host):
            self.metrics.rejected.labels("peer_streams").inc()
            message = f"more than {self.peers.cap} agent streams from {host}"
            log.warning("refused stream: %s", message)
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, message)
        self.metrics.streams.inc()
        bucket = TokenBucket(self.max_stream_rate, 2 * self.max_stream_rate)
        incoming = aiter(requests)
        checked = time.monotonic()
        try:
            while True:
                try:
                    raw = await self._next(incoming, first is None)
                except StopAsyncIteration:
                    break
                started = time.perf_counter()
                self.metrics.reports.inc()
                self._pace(bucket, context, first, peer)
                report = self._admit(raw, first, peer, context, await self._revoked(context, first))
                if first is None:
                    first = report
                elif time.monotonic() - checked >= self.recheck_every:
                    checked = time.monotonic()
                    await self._recheck(context, first.identity.node, peer)
                owner = self.inventory.nodes.get(report.identity.node)
                if owner is not None and owner.stream > stream:
                    self.metrics.superseded.inc()
                    message = f"node {report.identity.node} now reports on a newer stream"
                    raise _Refused(grpc.StatusCode.ALREADY_EXISTS, message)
                now = time.time()
                if owner is None or owner.report.capacity != report.capacity:
                    self._capacity(report, owner, now)
                if owner is None or owner.report.identity != report.identity:
                    await self._register(report, owner, now)
                self.inventory.accept(report, stream, now, self.pacer.interval)
                ack = self.acks.report(report.sequence, self.pacer.interval, draining=self.draining)
                self.pacer.count(now)
                self.metrics.ingest_seconds.observe(time.perf_counter() - started)
                yield ack
        except _Refused as refused:
            await context.abort(refused.code, refused.message)
        finally:
            self.metrics.streams.dec()
            self._release(first, stream)
            self.peers.release(host)

    def _pace(
        self,
        bucket: TokenBucket,
        context: grpc.aio.ServicerContext[bytes, bytes],
        first: agent_pb2.NodeReport | None,
        peer: str,
    ) -> None:
        """The stream's own rate limit: a refusal is counted, logged and audited."""
        if bucket.take(time.monotonic()):
            return
        self.metrics.rejected.labels("rate_limited").inc()
        message = f"more than {self.max_stream_rate:g} reports/s on one stream"
        log.warning("refused stream from %s: %s", peer, message)
        self._record(context, first, "rate-limited", message)
        raise _Refused(grpc.StatusCode.RESOURCE_EXHAUSTED, message)

    def _release(self, first: agent_pb2.NodeReport | None, stream: int) -> None:
        """The node streams here no more (it may report to another hub replica now)."""
        entry = self.inventory.nodes.get(first.identity.node) if first is not None else None
        if entry is not None and entry.stream == stream:
            entry.stream = 0

    async def _next(self, incoming: AsyncIterator[bytes], first: bool) -> bytes:
        """The stream's next report; the first must come within the first-report timeout."""
        if not first:
            return await anext(incoming)
        seconds = self.hygiene.first_report_seconds
        try:
            return await asyncio.wait_for(anext(incoming), seconds)
        except TimeoutError:
            self.metrics.rejected.labels("no_first_report").inc()
            message = f"no report within {seconds:g} s of opening the stream"
            raise _Refused(grpc.StatusCode.DEADLINE_EXCEEDED, message) from None

    def _admit(
        self,
        raw: bytes,
        first: agent_pb2.NodeReport | None,
        peer: str,
        context: grpc.aio.ServicerContext[bytes, bytes],
        revoked: bool,
    ) -> agent_pb2.NodeReport:
        """The report, parsed and checked; on a stream's first, the caller's certificate too
        (whether it may report at all before the bytes are parsed, then for which node;
        `revoked` was read off the event loop)."""
        if first is None and self.binding is not None:
            self._bind(context, "", peer, revoked)
        try:
            report = self._parse(raw)
            self._check(report, first)
        except ReportRejected as bad:
            name = first.identity.node if first is not None else "?"
            self.metrics.rejected.labels(bad.reason).inc()
            log.warning("rejected report from %s (node %s): %s", peer, name, bad.message)
            self._record(context, first, "rejected", f"{bad.reason}: {bad.message}")
            raise _Refused(grpc.StatusCode.INVALID_ARGUMENT, bad.message) from None
        if first is None and self.binding is not None:
            self._bind(context, report.identity.node, peer, revoked)
        if first is None and self.claims is not None:
            wrong = self.claims.contradiction(report.identity)
            if wrong is not None:
                self.metrics.denied.labels("claim_mismatch").inc()
                log.warning("refused stream from %s: %s", peer, wrong)
                self.refused_claim(report.identity.node, peer, wrong)
                raise _Refused(grpc.StatusCode.PERMISSION_DENIED, wrong)
        if not self.node_rates.take(report.identity.node, time.monotonic()):
            self.metrics.rejected.labels("node_rate_limited").inc()
            message = (
                f"more than {self.node_rates.rate:g} reports/s from node "
                f"{report.identity.node} over all its streams"
            )
            log.warning("refused stream from %s: %s", peer, message)
            self._record(context, first or report, "rate-limited", message)
            raise _Refused(grpc.StatusCode.RESOURCE_EXHAUSTED, message)
        return report

    def _capacity(self, report: agent_pb2.NodeReport, owner: NodeEntry | None, now: float) -> None:
        """A capacity jump beyond the documented threshold is an event an operator sees."""
        if self.claims is None:
            return
        node = report.identity.node
        before = owner.report.capacity if owner is not None else None
        jump = self.claims.jump(node, before, report.capacity)
        if jump is not None:
            self.metrics.capacity_jumps.inc()
            log.warning("%s", jump)
            self.inventory.record(Event(now, "capacity", node, jump))

    async def _revoked(self, context: Any, first: agent_pb2.NodeReport | None) -> bool:
        """On a stream's first report, whether its certificate was revoked: a store read (with
        PostgreSQL a network round-trip), so it runs in a worker thread, never on the loop."""
        ident = peer_identity(context)
        if first is not None or self.binding is None or ident is None:
            return False
        return await asyncio.to_thread(self.binding.revoked, ident)

    def _bind(self, context: Any, node: str, peer: str, revoked: bool) -> None:
        assert self.binding is not None
        denial = self.binding.check(context, node, peer=peer, revoked=revoked)
        if denial is not None:
            self.metrics.denied.labels(denial.reason).inc()
            log.warning("refused stream from %s: %s", peer, denial.message)
            raise _Refused(grpc.StatusCode.PERMISSION_DENIED, denial.message)

    async def _recheck(self, context: Any, node: str, peer: str) -> None:
        """Ends an open stream whose certificate was revoked since the stream began."""
        ident = peer_identity(context)
        if self.binding is None or ident is None:
            return
        denial = await asyncio.to_thread(self.binding.recheck, ident, node, peer)
        if denial is not None:
            self.metrics.denied.labels(denial.reason).inc()
            log.warning("ended stream from %s: %s", peer, denial.message)
            raise _Refused(grpc.StatusCode.PERMISSION_DENIED, denial.message)

    def _record(
        self, context: Any, first: agent_pb2.NodeReport | None, outcome: str, detail: str
    ) -> None:
        """Audits a refused report (the audit sink aggregates them per peer and minute)."""
        ident = peer_identity(context)
        node = first.identity.node if first is not None else (ident.name if ident else "?")
        actor = f"{ident.kind}:{ident.name}" if ident else "anonymous"
        role = ident.kind if ident else ""
        entry = AuditEntry(actor, "agent.report", f"node/{node}", outcome, role=role, detail=detail)
        self.audit(replace(entry, peer=context.peer()))

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
