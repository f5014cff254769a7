"""The agent's reporting loop: one long-lived stream to the hub, backoff, and a clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from dataclasses import dataclass

from agent.config import AgentConfig
from agent.discover import relay_finder
from agent.metrics import AgentMetrics
from agent.report import ReportBuilder
from agent.transport import Credentials, ReportStream, RpcError, Transport, load
from tongchou import loops
from tongchou.targets import split_addresses
from tongchou.v1 import agent_pb2

log = logging.getLogger("tongchou.agent")

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
        transport: Transport | None = None,
    ) -> None:
        self.config = config
        self.transport = transport or load(config.transport)
        self.builder = builder
        self.metrics = metrics or AgentMetrics()
        self.stop = stop or asyncio.Event()
        self.rng = rng or random.Random()
        self.interval = config.interval
        self.latest: agent_pb2.NodeReport | None = None
        self.backoff = Backoff(config.backoff_initial, config.backoff_max, self.rng)
        self.metrics.interval.set(self.interval)
        self.metrics.set_transport(self.transport.name)
        # Several hub addresses (hub replicas): each connection takes the next, from a random
        # start, so agents spread over the replicas and move on when one goes.
        try:
            self.addresses = split_addresses(config.hub)
        except ValueError:
            self.addresses = [config.hub]  # one address, used as given
        self._turn = self.rng.randrange(len(self.addresses))
        self.hub = self.addresses[self._turn]
        self.relays = relay_finder(config, self.rng)
        self._relay_misses = 0  # relays that failed in a row: after all of them, the hub
        self._acked = False  # the current stream has had an answer

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
        from agent import enroll

        cert_path, key_path = self.config.tls_cert, self.config.tls_key
        known: tuple[bytes, tuple[dt.datetime, dt.datetime]] | None = None
        while not self.stop.is_set():
            try:
                ca, cert, key = enroll.read(self.config.tls_ca, cert_path, key_path)
                if known is None or known[0] != cert:  # read again only when it changed
                    known = cert, await enroll.validity_of(cert)
                if enroll.due_between(*known[1]):
                    new_cert, new_key = await enroll.renew(
                        self.hub, ca, cert, key, self.config.node, self.transport
                    )
                    enroll.write_pair(cert_path, key_path, new_cert, new_key)
                    self.metrics.renewals.inc()
                    log.info("renewed this node's certificate (%s)", cert_path)
            except (OSError, ValueError) as err:
                log.error("cannot renew the certificate: %s", err)
            except RpcError as err:
                log.warning("renewing the certificate failed: %s", err.details)
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
                    log.warning("hub %s closed the stream; reconnecting in %.1fs", self.hub, delay)
            except _Reconnect as asked:
                delay = asked.delay * self.rng.uniform(1.0, 1.0 + JITTER) if asked.delay else 0.0
                log.info("hub asked to reconnect in %.1fs", delay)
            except RpcError as err:
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

    def _log_rpc_error(self, err: RpcError, delay: float) -> None:
        if err.code == "PERMISSION_DENIED":
            log.error("hub refused this node: %s; retrying in %.1fs", err.details, delay)
        elif err.code == "INVALID_ARGUMENT":
            self.metrics.reports.labels("rejected").inc()
            log.error("hub rejected report: %s; reconnecting in %.1fs", err.details, delay)
        elif err.code == "CANCELLED" and self.stop.is_set():
            return
        else:
            log.warning(
                "stream to hub %s failed (%s: %s); reconnecting in %.1fs",
                self.hub,
                err.code,
                err.details,
                delay,
            )

    def _credentials(self) -> Credentials | None:
        """The TLS files, read on every connect: a renewed certificate is used from the next
        stream on. None for plaintext."""
        if self.config.insecure or not self.config.tls_ca:
            return None
        from agent.enroll import read

        ca, cert, key = read(self.config.tls_ca, self.config.tls_cert, self.config.tls_key)
        return Credentials(ca=ca, cert=cert, key=key)

    async def _session(self) -> None:
        relays = await asyncio.to_thread(self.relays.relays) if self.relays else []
        via_relay = self._relay_misses < len(relays)
        if via_relay:
            self.hub = relays[self._relay_misses]
        else:  # no relay, or every relay missed: the hub this time, the relays again the next
            self.hub = self.addresses[self._turn % len(self.addresses)]
            self._turn += 1
        self._acked = False
        try:
            async with self.transport.connect(self.hub, self._credentials()) as stream:
                await self._converse(stream)
        finally:  # a relay that never answered counts as a miss; one that did is tried again
            self._relay_misses = self._relay_misses + 1 if via_relay and not self._acked else 0

    async def _converse(self, stream: ReportStream) -> None:
        while not self.stop.is_set():
            report = self.builder.next()
            self.latest = report
            await stream.write(report)
            ack = await asyncio.wait_for(stream.read(), ACK_TIMEOUT)
            if ack is None:  # the hub closed the stream
                return
            self.metrics.connected.set(1)
            self.metrics.reports.labels("accepted" if ack.accepted else "rejected").inc()
            self.backoff.reset()
            self._acked = True
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
        if seconds > 0:
            await loops.pause(self.stop, seconds)
