"""The relay's Prometheus metrics, in a registry of their own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from tongchou import __version__


class RelayMetrics:
    """What the relay took from its nodes, forwarded to the hub, and lost on the way."""

    def __init__(self, site: str, registry: CollectorRegistry | None = None) -> None:
        self.registry = r = registry or CollectorRegistry()
        self.streams = Gauge("tongchou_relay_agent_streams", "Open agent streams.", registry=r)
        self.received = Counter(
            "tongchou_relay_reports_received", "Reports received from agents.", registry=r
        )
        self.forwarded = Counter(
            "tongchou_relay_reports_forwarded",
            "Reports the hub acknowledged (taken, or already had).",
            registry=r,
        )
        self.dropped = Counter(
            "tongchou_relay_reports_dropped",
            "Reports dropped, oldest first, because the buffer was full while the hub was away.",
            registry=r,
        )
        self.refused = Counter(
            "tongchou_relay_reports_refused",
            "Reports the hub refused (invalid, or a node the relay may not vouch for).",
            registry=r,
        )
        self.rejected = Counter(
            "tongchou_relay_streams_refused",
            "Agent streams the relay refused itself (certificate, size, malformed report).",
            registry=r,
        )
        self.buffered = Gauge(
            "tongchou_relay_buffered_reports", "Reports waiting for the hub.", registry=r
        )
        self.hub_connected = Gauge(
            "tongchou_relay_hub_connected",
            "1 while the relay's stream to the hub is open, else 0.",
            registry=r,
        )
        self.batches = Counter(
            "tongchou_relay_batches_sent", "Batches sent to the hub (resent ones too).", registry=r
        )
        Gauge(
            "tongchou_relay_build_info",
            "Always 1; labels name the relay's version and site.",
            ["version", "site"],
            registry=r,
        ).labels(__version__, site).set(1)
