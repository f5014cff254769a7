"""The agent's own Prometheus metrics: its node's capacity and usage, and its reporting health."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from tongchou import __version__, levels
from tongchou.v1 import agent_pb2

_NODE_LABELS = ("node", "cluster", "site", "division", "level")


class NodeCollector(Collector):
    """Exposes the newest report as node gauges; `latest` gives it (None before the first)."""

    def __init__(self, latest: Callable[[], agent_pb2.NodeReport | None]) -> None:
        self._latest = latest

    def collect(self) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
        report = self._latest()
        if report is None:
            return
        ident = report.identity
        level = levels.name(ident.level)
        values = [ident.node, ident.cluster, ident.site, ident.division, level]
        cap, use = report.capacity, report.usage

        def gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
            family = GaugeMetricFamily(name, doc, labels=_NODE_LABELS)
            family.add_metric(values, value)
            return family

        yield gauge("tongchou_node_cpu_cores", "Logical CPUs of the node.", cap.cpu_logical)
        yield gauge(
            "tongchou_node_cpu_utilization_ratio", "Share of the node's CPU busy.", use.cpu_ratio
        )
        yield gauge("tongchou_node_load1", "One-minute load average.", use.load1)
        yield gauge("tongchou_node_memory_bytes", "Memory of the node.", cap.memory_bytes)
        yield gauge("tongchou_node_memory_used_bytes", "Memory in use.", use.memory_used_bytes)
        yield gauge(
            "tongchou_node_boot_time_seconds",
            "Boot time of the node, in seconds since the epoch.",
            report.boot_time.seconds,
        )
        disk_labels = (*_NODE_LABELS, "mount")
        total = GaugeMetricFamily(
            "tongchou_node_disk_bytes", "Size of a disk mount.", labels=disk_labels
        )
        used = GaugeMetricFamily(
            "tongchou_node_disk_used_bytes", "Space used on a disk mount.", labels=disk_labels
        )
        for disk in cap.disks:
            total.add_metric([*values, disk.mount], disk.total_bytes)
        for disk_use in use.disks:
            used.add_metric([*values, disk_use.mount], disk_use.used_bytes)
        yield total
        yield used
        nic_labels = (*_NODE_LABELS, "interface")
        recv = CounterMetricFamily(
            "tongchou_node_network_receive_bytes", "Bytes received.", labels=nic_labels
        )
        sent = CounterMetricFamily(
            "tongchou_node_network_transmit_bytes", "Bytes sent.", labels=nic_labels
        )
        for nic in use.nets:
            recv.add_metric([*values, nic.name], nic.bytes_recv)
            sent.add_metric([*values, nic.name], nic.bytes_sent)
        yield recv
        yield sent


class AgentMetrics:
    """Counters and gauges of the agent's reporting, in a registry of their own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.reports = Counter(
            "tongchou_agent_reports",
            "Reports sent to the hub, by result (accepted, rejected, failed).",
            ["result"],
            registry=self.registry,
        )
        for result in ("accepted", "rejected", "failed"):
            self.reports.labels(result)
        self.reconnects = Counter(
            "tongchou_agent_reconnects", "Times the agent connected again.", registry=self.registry
        )
        self.renewals = Counter(
            "tongchou_agent_certificate_renewals",
            "Times the node renewed its certificate.",
            registry=self.registry,
        )
        self.connected = Gauge(
            "tongchou_agent_connected",
            "1 while the stream to the hub is up.",
            registry=self.registry,
        )
        self.interval = Gauge(
            "tongchou_agent_report_interval_seconds",
            "The report interval in force (the hub may change it).",
            registry=self.registry,
        )
        self.build_info = Gauge(
            "tongchou_agent_build_info",
            "Always 1; labels name the agent's version.",
            ["version"],
            registry=self.registry,
        )
        self.build_info.labels(__version__).set(1)

    def serve(self, listen: str) -> int:
        """Serves /metrics over HTTP on host:port in a background thread; returns the port."""
        host, _, port = listen.rpartition(":")
        server, _thread = start_http_server(
            int(port), addr=host.strip("[]") or "0.0.0.0", registry=self.registry
        )
        return int(server.server_port)
