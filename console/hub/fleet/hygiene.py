"""Connection hygiene of the hub's port: a cap on connections in total and on agent streams
per peer, a handshake and a first-report timeout, idle and keepalive limits, and a report rate
limit per node identity (over all of its streams, so reconnecting does not reset it)."""

from __future__ import annotations

import resource
from dataclasses import dataclass

from console.security.ratelimit import TokenBucket

FD_RESERVE = 256
"""File descriptors kept for the store, the audit log, /metrics and the process itself."""


@dataclass(frozen=True, slots=True)
class Hygiene:
    """The limits; durations in seconds. See docs/hub.md, "Connection limits"."""

    max_connections: int = 30_000
    max_streams_per_peer: int = 10_000
    handshake_seconds: float = 10.0
    first_report_seconds: float = 30.0
    idle_seconds: float = 600.0
    keepalive_seconds: float = 60.0
    max_node_rate: float = 25.0

    def connection_cap(self) -> int:
        """`max_connections`, lowered to what the process's file-descriptor limit allows."""
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return self.max_connections
        return max(16, min(self.max_connections, soft - FD_RESERVE))

    def server_options(self) -> list[tuple[str, int]]:
        """gRPC server arguments: connections beyond the cap are closed at once; one that
        does not finish its HTTP/2 handshake in time, or carries no call for `idle_seconds`,
        is closed; the hub pings each connection every `keepalive_seconds`; a peer that pings
        too often is sent away after two strikes."""
        return [
            ("grpc.max_allowed_incoming_connections", self.connection_cap()),
            ("grpc.server_handshake_timeout_ms", int(self.handshake_seconds * 1000)),
            ("grpc.max_connection_idle_ms", int(self.idle_seconds * 1000)),
            ("grpc.keepalive_time_ms", int(self.keepalive_seconds * 1000)),
            ("grpc.keepalive_timeout_ms", 20_000),
            ("grpc.http2.max_ping_strikes", 2),
        ]


def peer_host(peer: str) -> str:
    """The address part of a gRPC peer string: "ipv4:10.0.0.7:51234" → "ipv4:10.0.0.7"."""
    host, _, port = peer.rpartition(":")
    return host if host and port.isdigit() else peer


class PeerStreams:
    """Open agent streams per peer address, capped."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.open: dict[str, int] = {}

    def admit(self, host: str) -> bool:
        count = self.open.get(host, 0)
        if count >= self.cap:
            return False
        self.open[host] = count + 1
        return True

    def release(self, host: str) -> None:
        count = self.open.get(host, 0) - 1
        if count > 0:
            self.open[host] = count
        else:
            self.open.pop(host, None)


class NodeRates:
    """A token bucket per node identity, shared by all of the node's streams."""

    MAX_TRACKED = 200_000

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, node: str, now: float) -> bool:
        bucket = self._buckets.get(node)
        if bucket is None:
            if len(self._buckets) >= self.MAX_TRACKED:
                self._buckets.clear()  # a flood of made-up names cannot grow this without end
            bucket = self._buckets[node] = TokenBucket(self.rate, 2 * self.rate)
        return bucket.take(now)
