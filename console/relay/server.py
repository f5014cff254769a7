"""The running relay: the agents' port, the buffer, the hub stream, /metrics, and a clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from wsgiref.simple_server import WSGIServer

import grpc
from prometheus_client import start_http_server

from console.relay.agents import AgentStreams, Verdicts
from console.relay.buffer import Buffer
from console.relay.metrics import RelayMetrics
from console.relay.upstream import Upstream, UpstreamSettings
from console.security.binding import NodeBinding
from console.security.tls import TlsFiles

log = logging.getLogger("tongchou.relay")


@dataclass(frozen=True, slots=True)
class RelayConfig:
    listen: str
    upstream: UpstreamSettings
    tls: TlsFiles | None  # None: plaintext on both sides (--insecure)
    metrics_listen: str = ""
    buffer: int = 100_000  # reports held while the hub is away
    report_interval: float = 10.0  # asked of agents until the hub says otherwise
    trust_simulators: bool = False
    drain_timeout: float = 10.0  # seconds to hand the buffer over at a stop
    ready_file: Path | None = None


class Relay:
    """Serves AgentService to the site's nodes and forwards their reports over one stream."""

    def __init__(self, config: RelayConfig, stop: asyncio.Event | None = None) -> None:
        self.config = config
        self.stop = stop or asyncio.Event()
        self.metrics = RelayMetrics(config.upstream.site)
        self.buffer = Buffer(config.buffer, self._dropped)
        self.verdicts = Verdicts(config.report_interval)
        binding = NodeBinding(trust_simulators=config.trust_simulators) if config.tls else None
        self.agents = AgentStreams(self.buffer, self.verdicts, self.metrics, binding)
        self.upstream = Upstream(config.upstream, self.buffer, self.verdicts, self.metrics)
        self.port = 0
        self.metrics_port = 0
        self._server: grpc.aio.Server | None = None
        self._httpd: WSGIServer | None = None
        self._upstream_stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._warned = False

    def _dropped(self, count: int) -> None:
        self.metrics.dropped.inc(count)
        if not self._warned:  # once per episode: the hub's ack clears it
            log.warning(
                "buffer full (%d reports): dropping the oldest; each drop is counted and told "
                "to the hub",
                self.buffer.capacity,
            )
            self._warned = True

    async def start(self) -> None:
        server = grpc.aio.server()
        server.add_generic_rpc_handlers((self.agents.handler(),))
        if self.config.tls is not None:
            port = server.add_secure_port(self.config.listen, self.config.tls.server_credentials())
        else:
            port = server.add_insecure_port(self.config.listen)
        if port == 0:
            raise OSError(f"cannot listen on {self.config.listen}")
        await server.start()
        self._server, self.port = server, port
        if self.config.metrics_listen:
            host, _, mport = self.config.metrics_listen.rpartition(":")
            httpd, _thread = start_http_server(
                int(mport), addr=host.strip("[]") or "0.0.0.0", registry=self.metrics.registry
            )
            self._httpd, self.metrics_port = httpd, int(httpd.server_port)
        self._task = asyncio.create_task(
            self.upstream.run(self._upstream_stop), name="relay-upstream"
        )
        self.upstream.connected_hook = self._connected
        log.info(
            "relay for site %s listening on :%d, forwarding to %s",
            self.config.upstream.site,
            self.port,
            self.config.upstream.hub,
        )
        if self.config.ready_file is not None:
            ready = {"grpc_port": self.port, "metrics_port": self.metrics_port, "pid": os.getpid()}
            temp = self.config.ready_file.with_suffix(".tmp")
            temp.write_text(json.dumps(ready))
            temp.replace(self.config.ready_file)

    def _connected(self) -> None:
        self._warned = False

    async def serve(self) -> None:
        await self.stop.wait()
        await self.shutdown()

    async def shutdown(self) -> None:
        """Closes the agents' port, hands what is buffered to the hub, and counts what is not."""
        self.stop.set()
        self.agents.draining = True
        if self._server is not None:
            await self._server.stop(2.0)
        self._upstream_stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, self.config.drain_timeout)
            except TimeoutError:
                log.warning("the hub did not take the buffer within %gs", self.config.drain_timeout)
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        left = len(self.buffer)
        if left:
            self.buffer.take(left)
            self.metrics.dropped.inc(left)
            log.warning("stopped with %d reports the hub never acknowledged: dropped", left)
        if self._httpd is not None:
            self._httpd.shutdown()
