"""RelayService.Forward: takes a site relay's batches of its nodes' reports, one lean pass each."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from prometheus_client import Counter, Gauge

from console.hub.fleet import validate
from console.hub.fleet.acks import Refusal
from console.hub.fleet.flusher import Flusher
from console.hub.fleet.ingest import AgentIngest
from console.hub.fleet.inventory import Inventory, NodeEntry
from console.hub.fleet.pacing import Pacer
from console.hub.fleet.validate import ReportRejected
from console.hub.metrics import HubMetrics
from console.model.fleet import Fleet
from console.model.inventory import Event, NodeState
from console.security.tls import peer_identity
from console.store.audit import AuditEntry
from tongchou.v1 import agent_pb2, common_pb2, relay_pb2

log = logging.getLogger("tongchou.hub.relay")

MAX_BATCH_BYTES = 4 * 1024 * 1024  # the main port takes no larger message
YIELD_EVERY = 256  # reports handled between two returns to the event loop


class RelayMetrics:
    """The hub's view of its relays: streams, batches, and what the relays lost on the way."""

    def __init__(self, metrics: HubMetrics) -> None:
        r = metrics.registry
        self.streams = Gauge("tongchou_hub_relay_streams", "Open relay streams.", registry=r)
        self.batches = Counter(
            "tongchou_hub_relay_batches", "Report batches received from relays.", registry=r
        )
        self.dropped = Counter(
            "tongchou_hub_relay_reports_dropped",
            "Reports a relay dropped because its buffer was full while the hub was away, by"
            " the relay's site.",
            ["site"],
            registry=r,
        )
        self.missing = Counter(
            "tongchou_hub_relay_reports_missing",
            "Reports missing from relayed streams (gaps in a node run's sequence), by site.",
            ["site"],
            registry=r,
        )
        self.duplicates = Counter(
            "tongchou_hub_relay_reports_duplicate",
            "Relayed reports the hub already had (a batch sent again after a reconnect).",
            registry=r,
        )


class _Refused(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(slots=True)
class _Stream:
    """One relay's stream: its site, what it vouched for, and how much it said it dropped."""

    id: int
    site: str
    checked: dict[str, common_pb2.NodeIdentity] = field(default_factory=dict)
    nodes: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Pass:
    """The outcome of checking one batch, before anything is taken."""

    taken: list[agent_pb2.NodeReport] = field(default_factory=list)
    rows: list[NodeEntry] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    duplicates: int = 0
    missing: int = 0


class RelayIngest:
    """The hub side of site relays: authorises each relay for its own site's nodes only."""

    def __init__(
        self,
        ingest: AgentIngest,
        fleet: Callable[[], Fleet],
        *,
        max_batch_bytes: int = MAX_BATCH_BYTES,
    ) -> None:
        self.ingest = ingest  # the direct streams' handler: its store, pacing, binding, drain
        self.inventory: Inventory = ingest.inventory
        self.flusher: Flusher = ingest.flusher
        self.metrics: HubMetrics = ingest.metrics
        self.pacer: Pacer = ingest.pacer
        self.relay_metrics = RelayMetrics(ingest.metrics)
        self.fleet = fleet
        self.max_batch_bytes = max_batch_bytes
        self._streams = itertools.count(1 << 40)  # apart from the agent streams' numbers
        self._dropped_seen: dict[str, tuple[str, int]] = {}  # site → (relay run, dropped_total)

    def handler(self) -> grpc.GenericRpcHandler:
        method: grpc.RpcMethodHandler[Any, Any] = grpc.stream_stream_rpc_method_handler(
            self.forward
        )
        return grpc.method_handlers_generic_handler("tongchou.v1.RelayService", {"Forward": method})

    async def forward(
        self, requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext[bytes, bytes]
    ) -> AsyncIterator[bytes]:
        stream: _Stream | None = None
        self.relay_metrics.streams.inc()
        try:
            async for raw in requests:
                batch = self._parse(raw)
                if stream is None:
                    revoked = await self._revoked(context)
                    stream = _Stream(next(self._streams), self._site(batch, context, revoked))
                    log.info("relay for site %s connected from %s", stream.site, context.peer())
                elif batch.site != stream.site:
                    raise _Refused(grpc.StatusCode.INVALID_ARGUMENT, "site changed mid-stream")
                yield await self._take(stream, batch)
        except _Refused as refused:
            await context.abort(refused.code, refused.message)
        finally:
            self.relay_metrics.streams.dec()
            if stream is not None:
                self._release(stream)

    def _parse(self, raw: bytes) -> relay_pb2.RelayBatch:
        if len(raw) > self.max_batch_bytes:
            self.metrics.rejected.labels("oversize").inc()
            message = f"batch of {len(raw)} bytes exceeds {self.max_batch_bytes}"
            raise _Refused(grpc.StatusCode.INVALID_ARGUMENT, message)
        try:
            return relay_pb2.RelayBatch.FromString(raw)
        except DecodeError:
            self.metrics.rejected.labels("malformed").inc()
            raise _Refused(
                grpc.StatusCode.INVALID_ARGUMENT, "batch is not a valid RelayBatch"
            ) from None

    async def _revoked(self, context: Any) -> bool:
        """Whether the relay's certificate was revoked: a store read, so off the event loop."""
        binding, ident = self.ingest.binding, peer_identity(context)
        if binding is None or ident is None:
            return False
        return await asyncio.to_thread(binding.revoked, ident)

    def _site(self, batch: relay_pb2.RelayBatch, context: Any, revoked: bool) -> str:
        """The site the relay speaks for: its certificate's name (mutual TLS) or its word
        (`revoked` was read off the event loop)."""
        binding = self.ingest.binding  # set when the hub runs mutual TLS
        if binding is None:
            if not batch.site:
                raise _Refused(grpc.StatusCode.INVALID_ARGUMENT, "batch.site is empty")
            return batch.site
        ident = peer_identity(context)
        denial = ""
        if ident is None:
            denial = "the hub requires a relay certificate"
        elif revoked:
            denial = f"the certificate of relay:{ident.name} was revoked"
        elif ident.kind != "relay":
            denial = f"a {ident.kind} certificate ({ident.name}) cannot forward reports"
        elif batch.site and batch.site != ident.name:
            denial = f"the certificate is for the relay of site {ident.name}, not {batch.site}"
        if denial:
            self.metrics.denied.labels("not_a_relay").inc()
            actor = f"{ident.kind}:{ident.name}" if ident else "anonymous"
            self._audit(actor, "relay.connect", "relay", denial)
            log.warning("refused relay stream from %s: %s", context.peer(), denial)
            raise _Refused(grpc.StatusCode.PERMISSION_DENIED, denial)
        assert ident is not None
        return ident.name

    async def _take(self, stream: _Stream, batch: relay_pb2.RelayBatch) -> bytes:
        """Checks every report of the batch, stores new nodes, then takes the rest in one go."""
        started = time.perf_counter()
        count = len(batch.reports)
        self.metrics.reports.inc(count)
        self.relay_metrics.batches.inc()
        self._dropped(stream, batch)
        checked = await self._check(stream, batch)
        if checked.rows:
            try:
                await self.flusher.durable([row.stored() for row in checked.rows])
            except Exception:
                message = "the hub cannot store the registrations"
                raise _Refused(grpc.StatusCode.UNAVAILABLE, message) from None
        now = time.time()
        accept, interval, relay = self.inventory.accept, self.pacer.interval, stream.site
        for report in checked.taken:
            accept(report, stream.id, now, interval, relay)
            stream.nodes.add(report.identity.node)
        self.pacer.count(now, len(checked.taken))
        if checked.duplicates:
            self.relay_metrics.duplicates.inc(checked.duplicates)
        if checked.missing:
            self.relay_metrics.missing.labels(stream.site).inc(checked.missing)
        accepted = len(checked.taken) + checked.duplicates
        ack = self.ingest.acks.relay(
            batch.batch, accepted, checked.refusals, interval, draining=self.ingest.draining
        )
        self.metrics.ingest_seconds.observe((time.perf_counter() - started) / max(1, count))
        return ack

    async def _check(self, stream: _Stream, batch: relay_pb2.RelayBatch) -> _Pass:
        """The lean pass: a full check only for an identity this stream has not seen."""
        out = _Pass()
        latest: dict[str, agent_pb2.NodeReport] = {}
        nodes, checked, refused = self.inventory.nodes, stream.checked, set[str]()
        now = time.time()
        for i, report in enumerate(batch.reports):
            if i and not i % YIELD_EVERY:
                await asyncio.sleep(0)
            name = report.identity.node
            if name in refused:
                continue
            entry = nodes.get(name)
            previous = latest.get(name) or (entry.report if entry is not None else None)
            try:
                if checked.get(name) != report.identity:
                    validate.check_identity(report.identity)
                    self._authorise(stream.site, report.identity)
                    self._registered(stream.site, report.identity)
                    checked[name] = report.identity
                validate.check_envelope(report, now)
                if previous is None or previous.capacity != report.capacity:
                    validate.check_capacity(report.capacity)
                validate.check_usage(report.usage, report.capacity)
            except ReportRejected as bad:
                self.metrics.rejected.labels(bad.reason).inc()
                code = grpc.StatusCode.INVALID_ARGUMENT
                out.refusals.append(Refusal(name, code, bad.message))
                refused.add(name)
                continue
            except _Refused as denied:
                out.refusals.append(Refusal(name, denied.code, denied.message))
                refused.add(name)
                continue
            if previous is not None and previous.run_id == report.run_id:
                if report.sequence <= previous.sequence:
                    out.duplicates += 1
                    continue
                if name in latest or (entry is not None and entry.relay == stream.site):
                    # the previous report came through this site's relay too: a gap was lost
                    out.missing += report.sequence - previous.sequence - 1
            if previous is None or previous.identity != report.identity:
                row = NodeEntry(name, report, NodeState.READY, now, now, self.pacer.interval)
                if entry is not None:
                    row.first_seen = entry.first_seen
                out.rows.append(row)
            latest[name] = report
            out.taken.append(report)
        return out

    def _authorise(self, site: str, ident: common_pb2.NodeIdentity) -> None:
        """A relay vouches only for nodes of its own site, as the fleet documents place them."""
        fleet = self.fleet()
        node = fleet.nodes.get(ident.node)
        cluster = fleet.clusters.get(node.cluster if node is not None else ident.cluster)
        placed = cluster.site if cluster is not None else ident.site
        if ident.site == site and placed == site:
            return
        where = placed if placed != site else ident.site
        message = f"the relay of site {site} cannot vouch for node {ident.node} (site {where})"
        self.metrics.denied.labels("relay_site").inc()
        self._audit(f"relay:{site}", "agent.connect", f"node/{ident.node}", message)
        log.warning("refused relayed report: %s", message)
        raise _Refused(grpc.StatusCode.PERMISSION_DENIED, message)

    def _registered(self, site: str, ident: common_pb2.NodeIdentity) -> None:
        """A relayed node's place is its registration's (fleet documents or join token), as
        for a direct stream: a relay cannot move a node to another division or cluster."""
        claims = self.ingest.claims
        wrong = claims.contradiction(ident) if claims is not None else None
        if wrong is None:
            return
        self.metrics.denied.labels("claim_mismatch").inc()
        log.warning("refused relayed report (relay of site %s): %s", site, wrong)
        self.ingest.refused_claim(ident.node, f"relay:{site}", wrong)
        raise _Refused(grpc.StatusCode.PERMISSION_DENIED, wrong)

    def _dropped(self, stream: _Stream, batch: relay_pb2.RelayBatch) -> None:
        """Counts and tells what the relay dropped since its last batch (per relay run)."""
        run, before = self._dropped_seen.get(stream.site, ("", 0))
        if run != batch.run_id:
            before = 0
        self._dropped_seen[stream.site] = (batch.run_id, max(before, batch.dropped_total))
        lost = batch.dropped_total - before
        if lost <= 0:
            return
        self.relay_metrics.dropped.labels(stream.site).inc(lost)
        text = f"the relay at {stream.site} dropped {lost} reports (its buffer was full)"
        log.warning("%s", text)
        self.inventory.record(Event(time.time(), "relay_dropped", stream.site, text))

    def _audit(self, actor: str, action: str, target: str, detail: str) -> None:
        binding = self.ingest.binding
        if binding is not None and binding.audit is not None:
            binding.audit(AuditEntry(actor, action, target, "denied", role="relay", detail=detail))

    def _release(self, stream: _Stream) -> None:
        """The relay's nodes stream here no more (until it or they connect again)."""
        for name in stream.nodes:
            entry = self.inventory.nodes.get(name)
            if entry is not None and entry.stream == stream.id:
                entry.stream = 0
        log.info("relay for site %s disconnected", stream.site)
