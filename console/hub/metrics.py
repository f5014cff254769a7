"""The hub's Prometheus metrics: ingest counters and histograms, and fleet gauges at scrape time."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from console.hub.inventory import Inventory
from console.hub.validate import REASONS
from console.model.inventory import NodeState
from tongchou import __version__, levels

_CLUSTER_LABELS = ("cluster", "site", "division", "level")


class HubMetrics:
    """Counters, gauges and histograms of the hub, in a registry of their own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.reports = Counter(
            "tongchou_hub_reports_received", "Agent reports received.", registry=r
        )
        self.rejected = Counter(
            "tongchou_hub_reports_rejected",
            "Agent reports rejected, by reason.",
            ["reason"],
            registry=r,
        )
        for reason in REASONS:
            self.rejected.labels(reason)
        self.superseded = Counter(
            "tongchou_hub_streams_superseded",
            "Agent streams closed because the same node connected on a newer stream.",
            registry=r,
        )
        self.ingest_seconds = Histogram(
            "tongchou_hub_ingest_duration_seconds",
            "Time from receiving a report to having its answer ready (a registration waits for"
            " its store write).",
            buckets=(
                0.0001,
                0.00025,
                0.0005,
                0.001,
                0.0025,
                0.005,
                0.01,
                0.025,
                0.05,
                0.1,
                0.25,
                0.5,
                1.0,
                2.5,
            ),
            registry=r,
        )
        self.streams = Gauge("tongchou_hub_agent_streams", "Open agent streams.", registry=r)
        self.interval = Gauge(
            "tongchou_hub_report_interval_seconds",
            "The report interval the hub asks of agents.",
            registry=r,
        )
        self.flush_seconds = Histogram(
            "tongchou_hub_store_flush_duration_seconds",
            "Time to write one batch to the store.",
            registry=r,
        )
        self.flushed_nodes = Counter(
            "tongchou_hub_store_node_writes", "Node rows written to the store.", registry=r
        )
        self.schedule_seconds = Histogram(
            "tongchou_hub_scheduling_duration_seconds",
            "Time of one scheduling pass over the pending workloads.",
            registry=r,
        )
        self.store_errors = Counter(
            "tongchou_hub_store_errors", "Failed store writes (retried).", registry=r
        )
        self.denied = Counter(
            "tongchou_hub_denied",
            "Calls refused for their identity or permissions, by reason.",
            ["reason"],
            registry=r,
        )
        for reason in (
            "node_mismatch",
            "not_a_node",
            "no_certificate",
            "unauthenticated",
            "permission",
            "revoked",
            "scope",
        ):
            self.denied.labels(reason)
        self.audit_chain_ok = Gauge(
            "tongchou_audit_chain_ok",
            "1 when the audit log's hash chain verified at the last check, else 0.",
            registry=r,
        )
        self.audit_chain_ok.set(1)
        self.failovers = Counter(
            "tongchou_failovers",
            "Times a cluster was marked unavailable and its replicas placed elsewhere.",
            ["cluster"],
            registry=r,
        )
        Gauge(
            "tongchou_hub_build_info",
            "Always 1; labels name the hub's version.",
            ["version"],
            registry=r,
        ).labels(__version__).set(1)


class FleetCollector(Collector):
    """Nodes by state and resources per cluster, computed from the inventory at scrape time."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory

    def collect(self) -> Iterable[GaugeMetricFamily]:
        entries = list(self.inventory.nodes.values())
        nodes: dict[tuple[str, ...], int] = {}
        key: tuple[str, ...]
        state_key: tuple[str, ...]
        sums: dict[tuple[str, ...], list[float]] = {}
        for entry in entries:
            ident = entry.report.identity
            key = (ident.cluster, ident.site, ident.division, levels.name(ident.level))
            state_key = (*key, entry.state.value)
            nodes[state_key] = nodes.get(state_key, 0) + 1
            acc = sums.setdefault(key, [0.0, 0.0, 0.0, 0.0])
            cap, use = entry.report.capacity, entry.report.usage
            acc[0] += cap.cpu_logical
            acc[2] += cap.memory_bytes
            if entry.state is not NodeState.LOST:
                acc[1] += cap.cpu_logical * use.cpu_ratio
                acc[3] += use.memory_used_bytes
        family = GaugeMetricFamily(
            "tongchou_hub_nodes", "Nodes by state.", labels=(*_CLUSTER_LABELS, "state")
        )
        for state_key, count in sorted(nodes.items()):
            family.add_metric(list(state_key), count)
        yield family
        names = (
            ("tongchou_hub_cluster_cpu_cores", "Logical CPUs of a cluster's nodes."),
            ("tongchou_hub_cluster_cpu_used_cores", "CPUs in use on a cluster's live nodes."),
            ("tongchou_hub_cluster_memory_bytes", "Memory of a cluster's nodes."),
            ("tongchou_hub_cluster_memory_used_bytes", "Memory in use on a cluster's live nodes."),
        )
        for i, (name, doc) in enumerate(names):
            gauge = GaugeMetricFamily(name, doc, labels=_CLUSTER_LABELS)
            for key, acc in sorted(sums.items()):
                gauge.add_metric(list(key), acc[i])
            yield gauge


class WorkloadCollector(Collector):
    """Replicas per workload and cluster (desired, placed, ready) and cluster availability,
    read at scrape time from `source` (the hub: its workloads and, when on, its executor)."""

    def __init__(self, source: ReplicaSource) -> None:
        self.source = source

    def collect(self) -> Iterable[GaugeMetricFamily]:
        replicas = GaugeMetricFamily(
            "tongchou_workload_replicas",
            "Replicas of a workload: desired (cluster empty: the whole workload), placed in a"
            " cluster by the scheduler, ready as the cluster's Kubernetes API reports.",
            labels=("workload", "cluster", "state"),
        )
        for workload, cluster, state, value in self.source.replica_rows():
            replicas.add_metric([workload, cluster, state], value)
        yield replicas
        available = GaugeMetricFamily(
            "tongchou_cluster_available",
            "1 when the cluster takes replicas, 0 while failover holds it out.",
            labels=("cluster",),
        )
        for cluster, up in self.source.cluster_rows():
            available.add_metric([cluster], 1.0 if up else 0.0)
        yield available


class ReplicaSource(Protocol):
    def replica_rows(self) -> list[tuple[str, str, str, int]]: ...

    def cluster_rows(self) -> list[tuple[str, bool]]: ...
