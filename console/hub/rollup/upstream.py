"""`tongchou hub --upstream`: a province hub sends its division summary to the national hub
every --upstream-interval, and within a second of a change in its fleet (a node registered,
moved, or changed state)."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from prometheus_client import CollectorRegistry, Counter, Gauge

from console.hub.fleet.inventory import Inventory
from console.hub.rollup import summary
from tongchou.loops import pause
from tongchou.targets import channel_target
from tongchou.v1 import rollup_pb2

log = logging.getLogger("tongchou.hub.upstream")

REPORT_METHOD = "/tongchou.v1.RollupService/Report"
CALL_TIMEOUT = 10.0
CHECK_EVERY = 1.0  # how often a change in the fleet is looked for


@dataclass(frozen=True, slots=True)
class UpstreamSettings:
    """Where and how often a province hub reports. Durations in seconds."""

    target: str  # the national hub's host:port (several, comma-separated)
    province: summary.Province
    credentials: grpc.ChannelCredentials | None  # None: plaintext (--upstream-insecure)
    interval: float = 60.0


class UpstreamMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.sent = Counter(
            "tongchou_hub_upstream_summaries",
            "Division summaries sent to the national hub, by outcome (ok, failed).",
            ["outcome"],
            registry=registry,
        )
        self.last_ok = Gauge(
            "tongchou_hub_upstream_last_success_timestamp_seconds",
            "When the national hub last took this province's summary (Unix time; 0: never).",
            registry=registry,
        )


class UpstreamReporter:
    """Sends summaries; a national hub that is away is tried again at the next check, with
    the newest summary (older ones are not queued: each summary replaces the one before)."""

    def __init__(
        self,
        settings: UpstreamSettings,
        inventory: Inventory,
        catalog: Callable[[], summary.Catalog],
        metrics: UpstreamMetrics,
    ) -> None:
        self.settings = settings
        self.inventory = inventory
        self.catalog = catalog
        self.metrics = metrics
        self.run_id = secrets.token_hex(8)
        self.sequence = 0
        self.interval = settings.interval
        self._sent_generation = -1
        self._sent_at = 0.0
        self._failed = False

    def due(self, now: float) -> bool:
        """A summary is due: the fleet changed, the interval passed, or the last one failed."""
        if self.inventory.generation != self._sent_generation:
            return True
        return now - self._sent_at >= (CHECK_EVERY * 5 if self._failed else self.interval)

    async def build(self) -> rollup_pb2.ProvinceSummary:
        """The summary, added up on a worker thread from a snapshot of the node entries."""
        entries = list(self.inventory.nodes.values())  # a list copy: cheap on the loop
        self.sequence += 1
        return await asyncio.to_thread(
            summary.build,
            self.settings.province,
            entries,
            self.catalog(),
            sequence=self.sequence,
            run_id=self.run_id,
        )

    async def run(self, stop: asyncio.Event) -> None:
        target, options = channel_target(self.settings.target)
        credentials = self.settings.credentials
        channel = (
            grpc.aio.secure_channel(target, credentials, options=options)
            if credentials is not None
            else grpc.aio.insecure_channel(target, options=options)
        )
        async with channel:
            report = channel.unary_unary(
                REPORT_METHOD,
                request_serializer=rollup_pb2.ProvinceSummary.SerializeToString,
                response_deserializer=rollup_pb2.RollupAck.FromString,
            )
            while not stop.is_set():
                if self.due(time.monotonic()):
                    await self._send(report)
                if await pause(stop, CHECK_EVERY):
                    return

    async def _send(self, report: grpc.aio.UnaryUnaryMultiCallable[Any, Any]) -> None:
        generation = self.inventory.generation
        message = await self.build()
        self._sent_at = time.monotonic()
        try:
            ack: rollup_pb2.RollupAck = await report(message, timeout=CALL_TIMEOUT)
        except grpc.aio.AioRpcError as err:
            self.metrics.sent.labels("failed").inc()
            if not self._failed:
                log.warning(
                    "the national hub at %s did not take the summary of %s: %s %s",
                    self.settings.target,
                    self.settings.province.code,
                    err.code().name,
                    err.details(),
                )
            self._failed = True
            return
        if self._failed:
            log.info("the national hub at %s takes summaries again", self.settings.target)
        self._failed = False
        self._sent_generation = generation
        self.metrics.sent.labels("ok").inc()
        self.metrics.last_ok.set(time.time())
        wanted = ack.report_interval.ToNanoseconds() / 1e9
        if wanted > 0:
            self.interval = min(self.settings.interval, wanted)
