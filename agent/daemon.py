"""The agent's reporting loop: one long-lived stream to the hub, backoff, and a clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass
from pathlib import Path

import grpc

from agent.config import AgentConfig
from agent.metrics import AgentMetrics
from agent.report import ReportBuilder
from tongchou.targets import channel_target
from tongchou.v1 import agent_pb2, agent_pb2_grpc

log = logging.getLogger("tongchou.agent")

CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.enable_retries", 0),
]
ACK_TIMEOUT = 30.0
JITTER = 0.1


@dataclass(slots=True)
class Backoff:
    """Capped exponential backoff with full jitter (AWS architecture blog's "full jitter")."""

    initial: float
    cap: float
    rng: random.Random
    attempt: int = 0

    def next(self) -> float:
        ceiling = min(self.cap, self.initial * (2**self.attempt))
        self.attempt = min(self.attempt + 1, 30)
        return self.rng.uniform(self.initial / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0


class _Reconnect(Exception):
    """The hub asked the agent to reconnect after a delay."""

    def __init__(self, delay: float) -> None:
        super().__init__(delay)
        self.delay = delay


class Agent:
    """Reports to the hub until `stop` is set. Holds at most one report: nothing piles up."""

    def __init__(
        self,
        config: AgentConfig,
        builder: ReportBuilder,
        *,
        metrics: AgentMetrics | None = None,
        stop: asyncio.Event | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.builder = builder
        self.metrics = metrics or AgentMetrics()
        self.stop = stop or asyncio.Event()
        self.rng = rng or random.Random()
        self.interval = config.interval
        self.latest: agent_pb2.NodeReport | None = None
        self.backoff = Backoff(config.backoff_initial, config.backoff_max, self.rng)
        self.metrics.interval.set(self.interval)

    async def run(self) -> None:
        """Connects, reports, and reconnects with backoff, until stopped; renews the node's
        certificate in the background when it runs mutual TLS."""
        renewer = None
        if self.config.tls_cert and not self.config.insecure:
            renewer = asyncio.create_task(self._renew_loop(), name="agent-cert-renewal")
        try:
            await self._report_loop()
        finally:
            if renewer is not None:
                renewer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewer

    async def _renew_loop(self) -> None:
        """Renews the certificate once two thirds of its life have passed. The open stream is
        not touched; the next connection uses the new certificate, so reports never stop."""
        from agent import enroll  # cryptography: only for nodes that run mutual TLS

        cert_path, key_path = Path(self.config.tls_cert), Path(self.config.tls_key)
        while not self.stop.is_set():
            try:
                ca, cert, key = enroll.read(Path(self.config.tls_ca), cert_path, key_path)
                if enroll.due(cert):
                    new_cert, new_key = await enroll.renew(
                        self.config.hub, ca, cert, key, self.config.node
                    )
                    enroll.write_pair(cert_path, key_path, new_cert, new_key)
                    self.metrics.renewals.inc()
                    log.info("renewed this node's certificate (%s)", cert_path)
            except (OSError, ValueError) as err:
                log.error("cannot renew the certificate: %s", err)
            except grpc.aio.AioRpcError as err:
                log.warning("renewing the certificate failed: %s", err.details())
            await self._sleep(self.config.renew_check)

    async def _report_loop(self) -> None:
        first = True
        while not self.stop.is_set():
            if not first:
                self.metrics.reconnects.inc()
            first = False
            try:
                await self._session()
                delay = self.backoff.next()
                if not self.stop.is_set():
                    log.warning(
                        "hub %s closed the stream; reconnecting in %.1fs", self.config.hub, delay
                    )
            except _Reconnect as asked:
                delay = asked.delay * self.rng.uniform(1.0, 1.0 + JITTER) if asked.delay else 0.0
                log.info("hub asked to reconnect in %.1fs", delay)
            except grpc.aio.AioRpcError as err:
                delay = self.backoff.next()
                self._log_rpc_error(err, delay)
            except OSError as err:  # the TLS files went missing or unreadable
                delay = self.backoff.next()
                log.error(
                    "cannot read %s: %s; retrying in %.1fs", err.filename, err.strerror, delay
                )
            except TimeoutError:
                delay = self.backoff.next()
                log.warning(
                    "hub did not answer within %.0fs; reconnecting in %.1fs", ACK_TIMEOUT, delay
                )
            finally:
                self.metrics.connected.set(0)
            await self._sleep(delay)

    def _log_rpc_error(self, err: grpc.aio.AioRpcError, delay: float) -> None:
        code = err.code()
        if code == grpc.StatusCode.PERMISSION_DENIED:
            log.error("hub refused this node: %s; retrying in %.1fs", err.details(), delay)
        elif code == grpc.StatusCode.INVALID_ARGUMENT:
            self.metrics.reports.labels("rejected").inc()
            log.error("hub rejected report: %s; reconnecting in %.1fs", err.details(), delay)
        elif code == grpc.StatusCode.CANCELLED and self.stop.is_set():
            return
        else:
            log.warning(
                "stream to hub %s failed (%s: %s); reconnecting in %.1fs",
                self.config.hub,
                code.name if code else "?",
                err.details(),
                delay,
            )

    def _channel(self) -> grpc.aio.Channel:
        # Several hub replicas: one channel over all of them, moving on when one goes.
        target, extra = channel_target(self.config.hub, shuffle=self.rng)
        options = CHANNEL_OPTIONS + extra
        if self.config.insecure or not self.config.tls_ca:
            return grpc.aio.insecure_channel(target, options=options)
        credentials = grpc.ssl_channel_credentials(
            root_certificates=Path(self.config.tls_ca).read_bytes(),
            private_key=Path(self.config.tls_key).read_bytes(),
            certificate_chain=Path(self.config.tls_cert).read_bytes(),
        )  # read on every connect: a rotated certificate is used from the next stream on
        return grpc.aio.secure_channel(target, credentials, options=options)

    async def _session(self) -> None:
        async with self._channel() as channel:
            stub = agent_pb2_grpc.AgentServiceStub(channel)
            call = stub.Connect()
            try:
                await self._converse(call)
            finally:
                call.cancel()

    async def _converse(
        self, call: grpc.aio.StreamStreamCall[agent_pb2.NodeReport, agent_pb2.ReportAck]
    ) -> None:
        while not self.stop.is_set():
            report = self.builder.next()
            self.latest = report
            try:
                await call.write(report)
                ack = await asyncio.wait_for(call.read(), ACK_TIMEOUT)
            except asyncio.InvalidStateError:  # the hub ended the call with OK
                return
            if not isinstance(ack, agent_pb2.ReportAck):  # EOF: the hub closed the stream
                return
            self.metrics.connected.set(1)
            self.metrics.reports.labels("accepted" if ack.accepted else "rejected").inc()
            self.backoff.reset()
            if ack.HasField("report_interval"):
                wanted = ack.report_interval.ToTimedelta().total_seconds()
                if wanted > 0 and wanted != self.interval:
                    log.info("hub sets report interval to %.1fs", wanted)
                    self.interval = wanted
                    self.metrics.interval.set(wanted)
            report_now = False
            for command in ack.commands:
                if command.kind == agent_pb2.Command.KIND_RECONNECT:
                    raise _Reconnect(command.delay.ToTimedelta().total_seconds())
                if command.kind == agent_pb2.Command.KIND_REPORT_NOW:
                    report_now = True
            if not report_now:
                await self._sleep(self.interval * self.rng.uniform(1 - JITTER, 1 + JITTER))

    async def _sleep(self, seconds: float) -> None:
        """Waits `seconds`, or less if the agent is asked to stop."""
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds)
