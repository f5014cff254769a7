"""Runs simulated agents, each on its own gRPC stream, spread over a few shared channels."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc

from console.simulate.nodes import SimNode
from tongchou.targets import channel_target
from tongchou.v1 import agent_pb2

log = logging.getLogger("tongchou.simulate")
CONNECT = "/tongchou.v1.AgentService/Connect"
STREAMS_PER_CHANNEL = 250
CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.use_local_subchannel_pool", 1),
]


@dataclass(slots=True)
class Stats:
    """What the simulator has done so far."""

    connected: int = 0
    reports: int = 0
    acks: int = 0
    rejected: int = 0
    failures: int = 0
    latencies: list[float] = field(default_factory=list)
    keep_latencies: bool = False


class Simulator:
    """Drives every SimNode until `stop` is set. `interval` None obeys the hub's interval."""

    def __init__(
        self,
        hub: str,
        nodes: Sequence[SimNode],
        *,
        interval: float | None = None,
        stop: asyncio.Event | None = None,
        seed: int = 0,
        ramp_seconds: float = 5.0,
        credentials: grpc.ChannelCredentials | None = None,
    ) -> None:
        self.hub = hub
        self.credentials = credentials  # None: plaintext
        self.nodes = list(nodes)
        self.interval = interval
        self.stop = stop or asyncio.Event()
        self.rng = random.Random(seed)
        self.ramp_seconds = ramp_seconds
        self.stats = Stats()
        self.paused: set[str] = set()

    async def run(self) -> None:
        channels = [
            self._channel() for _ in range(max(1, -(-len(self.nodes) // STREAMS_PER_CHANNEL)))
        ]
        tasks = [
            asyncio.create_task(
                self._agent(node, channels[i % len(channels)]), name=f"sim-agent-{node.name}"
            )
            for i, node in enumerate(self.nodes)
        ]
        try:
            await self.stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for channel in channels:
                await channel.close(None)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds)

    def _channel(self) -> grpc.aio.Channel:
        # Several hub replicas ("a:7470,b:7470"): each channel over all of them, in its own
        # order, moving on when its hub goes.
        target, extra = channel_target(self.hub, shuffle=self.rng)
        options = [*CHANNEL_OPTIONS, *extra]
        if self.credentials is None:
            return grpc.aio.insecure_channel(target, options=options)
        return grpc.aio.secure_channel(target, self.credentials, options=options)

    async def _agent(self, node: SimNode, channel: grpc.aio.Channel) -> None:
        await self._sleep(self.rng.uniform(0, self.ramp_seconds))
        connect: Any = channel.stream_stream(
            CONNECT, request_serializer=None, response_deserializer=agent_pb2.ReportAck.FromString
        )
        backoff = 1.0
        while not self.stop.is_set():
            if node.name in self.paused:
                await self._sleep(1.0)
                continue
            try:
                await self._converse(node, connect())
                backoff = 1.0
            except grpc.aio.AioRpcError as err:
                if err.code() == grpc.StatusCode.INVALID_ARGUMENT:
                    self.stats.rejected += 1
                    log.warning("hub rejected %s: %s", node.name, err.details())
                else:
                    self.stats.failures += 1
            except asyncio.InvalidStateError:  # the stream ended under a write
                self.stats.failures += 1
            await self._sleep(self.rng.uniform(0.5, backoff))
            backoff = min(60.0, backoff * 2)

    async def _converse(self, node: SimNode, call: Any) -> None:
        loop = asyncio.get_running_loop()
        interval = self.interval or 10.0
        self.stats.connected += 1
        try:
            while not self.stop.is_set() and node.name not in self.paused:
                sent = loop.time()
                await call.write(node.report())
                self.stats.reports += 1
                ack = await call.read()
                if not isinstance(ack, agent_pb2.ReportAck):
                    return
                self.stats.acks += 1
                if self.stats.keep_latencies:
                    self.stats.latencies.append(loop.time() - sent)
                if self.interval is None and ack.HasField("report_interval"):
                    interval = ack.report_interval.ToTimedelta().total_seconds()
                await self._sleep(interval * self.rng.uniform(0.9, 1.1))
        finally:
            self.stats.connected -= 1
            call.cancel()
