"""Scrape-time collectors of what the hub has scheduled: allocation per cluster, workloads.

They read the live inventory and the workload records when Prometheus scrapes, so a
report or a placement never touches a gauge. Label values come from the fleet (cluster,
site, division, level), from fixed lists (state) or from the stored workloads' names, so
the number of series is bounded by the fleet's clusters and the hub's workloads.

Prometheus scrapes on the metrics server's thread while the event loop changes the
inventory and the records: every dict is copied (in one C call, under the GIL) before it
is walked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from console.hub.control.clusters import ClusterView
from console.hub.control.workloads import WorkloadManager, WorkloadRecord, held_by_cluster
from console.hub.fleet.inventory import Inventory, Totals
from console.model.fleet import Fleet
from tongchou import levels

CLUSTER_LABELS = ("cluster", "site", "division", "level")
WORKLOAD_STATES = ("placed", "partial", "pending")
PLAN_RESULTS = ("succeeded", "failed")


def workload_state(record: WorkloadRecord) -> str:
    """`placed` when every replica has a cluster, `pending` when none has, else `partial`."""
    if record.pending <= 0:
        return "placed"
    return "partial" if any(record.placed.values()) else "pending"


class FleetCollector(Collector):
    """Nodes by state and resources per cluster, computed from the inventory at scrape time."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory

    def collect(self) -> Iterable[GaugeMetricFamily]:
        sums: dict[tuple[str, ...], Totals] = {}
        for entry in list(self.inventory.nodes.values()):
            ident = entry.report.identity
            key = (ident.cluster, ident.site, ident.division, levels.name(ident.level))
            totals = sums.get(key)
            if totals is None:
                totals = sums[key] = Totals()
            totals.add(entry)
        rows = sorted(sums.items())
        family = GaugeMetricFamily(
            "tongchou_hub_nodes", "Nodes by state.", labels=(*CLUSTER_LABELS, "state")
        )
        for labels, t in rows:
            for state, count in sorted(t.by_state().items(), key=lambda item: item[0].value):
                if count:
                    family.add_metric([*labels, state.value], count)
        yield family
        names = (
            ("tongchou_hub_cluster_cpu_cores", "Logical CPUs of a cluster's nodes."),
            ("tongchou_hub_cluster_cpu_used_cores", "CPUs in use on a cluster's live nodes."),
            ("tongchou_hub_cluster_memory_bytes", "Memory of a cluster's nodes."),
            ("tongchou_hub_cluster_memory_used_bytes", "Memory in use on a cluster's live nodes."),
        )
        for i, (name, doc) in enumerate(names):
            gauge = GaugeMetricFamily(name, doc, labels=CLUSTER_LABELS)
            for labels, t in rows:
                values = (t.cpu_cores, t.cpu_used_cores, t.memory_bytes, t.memory_used_bytes)
                gauge.add_metric(list(labels), values[i])
            yield gauge


class AllocationCollector(Collector):
    """CPU and memory that placed replicas reserve, per cluster.

    A cluster's site, division and level come from its nodes' reports, or from the fleet
    documents when no node of it has reported.
    """

    def __init__(
        self,
        inventory: Inventory,
        records: Callable[[], Mapping[str, WorkloadRecord]],
        documents: Callable[[], Fleet],
    ) -> None:
        self.inventory = inventory
        self.records = records
        self.documents = documents

    def _cluster_labels(self) -> dict[str, tuple[str, str, str, str]]:
        out: dict[str, tuple[str, str, str, str]] = {}
        fleet = self.documents()
        for cluster in list(fleet.clusters.values()):
            site = fleet.sites.get(cluster.site)
            division = fleet.divisions.get(site.division) if site else None
            out[cluster.name] = (
                cluster.name,
                cluster.site,
                site.division if site else "",
                division.level.value if division else "",
            )
        for entry in list(self.inventory.nodes.values()):
            ident = entry.report.identity
            if ident.cluster not in out or not out[ident.cluster][3]:
                out[ident.cluster] = (
                    ident.cluster, ident.site, ident.division, levels.name(ident.level),
                )  # fmt: skip
        return out

    def collect(self) -> Iterable[GaugeMetricFamily]:
        held = held_by_cluster(list(self.records().values()))
        cpu = {cluster: h.amount.cpu_milli / 1000 for cluster, h in held.items()}
        memory = {cluster: float(h.amount.memory_bytes) for cluster, h in held.items()}
        labels = self._cluster_labels()
        families = (
            (
                "tongchou_hub_cluster_cpu_allocated_cores",
                "CPUs reserved in a cluster by the replicas placed there.",
                cpu,
            ),
            (
                "tongchou_hub_cluster_memory_allocated_bytes",
                "Memory reserved in a cluster by the replicas placed there.",
                memory,
            ),
        )
        for name, doc, values in families:
            family = GaugeMetricFamily(name, doc, labels=CLUSTER_LABELS)
            for cluster in sorted(set(labels) | set(values)):
                key = labels.get(cluster, (cluster, "", "", ""))
                family.add_metric(list(key), values.get(cluster, 0.0))
            yield family
        yield self._info(labels)

    def _info(self, labels: Mapping[str, tuple[str, str, str, str]]) -> GaugeMetricFamily:
        """`tongchou_hub_cluster_info`: a cluster's provider and 等保 level, to join on."""
        fleet = self.documents()
        found: dict[str, tuple[str, str]] = {}
        for entry in list(self.inventory.nodes.values()):
            ident = entry.report.identity
            found.setdefault(ident.cluster, (ident.provider, str(ident.mlps_level or "")))
        family = GaugeMetricFamily(
            "tongchou_hub_cluster_info",
            "Always 1; labels name a cluster's provider and MLPS (等保) level.",
            labels=(*CLUSTER_LABELS, "provider", "mlps_level"),
        )
        for cluster, key in sorted(labels.items()):
            doc = fleet.clusters.get(cluster)
            site = fleet.sites.get(doc.site) if doc else None
            if doc is not None and site is not None:
                extra = (site.provider, str(doc.mlps_level))
            else:
                extra = found.get(cluster, ("", ""))
            family.add_metric([*key, *extra], 1.0)
        return family


class WorkloadCollector(Collector):
    """Workloads by placement state; each workload's replicas asked for, placed per cluster,
    and still waiting for room."""

    def __init__(self, records: Callable[[], Mapping[str, WorkloadRecord]]) -> None:
        self.records = records

    def collect(self) -> Iterable[GaugeMetricFamily]:
        records = sorted(self.records().items())
        by_state = dict.fromkeys(WORKLOAD_STATES, 0)
        for _name, record in records:
            by_state[workload_state(record)] += 1
        family = GaugeMetricFamily(
            "tongchou_hub_workloads",
            "Workloads by placement state (placed, partial, pending).",
            labels=("state",),
        )
        for state, count in by_state.items():
            family.add_metric([state], count)
        yield family
        desired = GaugeMetricFamily(
            "tongchou_hub_workload_desired_replicas",
            "Replicas a workload asks for.",
            labels=("workload",),
        )
        pending = GaugeMetricFamily(
            "tongchou_hub_workload_pending_replicas",
            "Replicas of a workload that no cluster has room for yet.",
            labels=("workload",),
        )
        placed = GaugeMetricFamily(
            "tongchou_hub_workload_placed_replicas",
            "Replicas of a workload placed in a cluster.",
            labels=("workload", "cluster"),
        )
        for name, record in records:
            desired.add_metric([name], record.workload.replicas)
            pending.add_metric([name], max(record.pending, 0))
            for cluster, replicas in sorted(record.placed.items()):
                placed.add_metric([name, cluster], replicas)
        yield desired
        yield pending
        yield placed


class ReplicaCollector(Collector):
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


class ReplicaRows:
    """The rows of `tongchou_workload_replicas` and `tongchou_cluster_available`."""

    def __init__(self, manager: WorkloadManager, clusters: ClusterView | None) -> None:
        self.manager = manager
        self.clusters = clusters

    def replica_rows(self) -> list[tuple[str, str, str, int]]:
        rows = []
        for name, record in sorted(self.manager.records.items()):
            rows.append((name, "", "desired", record.workload.replicas))
            for cluster, replicas in sorted(record.placed.items()):
                rows.append((name, cluster, "placed", replicas))
                ready = self.clusters.ready_of(cluster, name) if self.clusters else None
                if ready is not None:
                    rows.append((name, cluster, "ready", ready))
        return rows

    def cluster_rows(self) -> list[tuple[str, bool]]:
        return list(self.clusters.available().items()) if self.clusters else []


class PlannerMetrics:
    """Runs of the unified planner and the figures of the newest plan."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.runs = Counter(
            "tongchou_hub_plan_runs",
            "Planner runs, by result (succeeded, failed).",
            ["result"],
            registry=registry,
        )
        for result in PLAN_RESULTS:
            self.runs.labels(result)
        self.seconds = Histogram(
            "tongchou_hub_plan_duration_seconds",
            "Time of one planner run, from the request to the plan.",
            buckets=(0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0),
            registry=registry,
        )
        self.cost = Gauge(
            "tongchou_hub_plan_cost_cny",
            "Total cost of the newest plan, in yuan (CNY).",
            registry=registry,
        )
        self.counterfactual = Gauge(
            "tongchou_hub_plan_counterfactual_cost_cny",
            "What the newest plan's demands would cost if every locality built its own, in yuan.",
            registry=registry,
        )
        self.savings = Gauge(
            "tongchou_hub_plan_savings_cny",
            "Savings of the newest plan against every locality building its own, in yuan.",
            registry=registry,
        )
        self.last_success = Gauge(
            "tongchou_hub_plan_last_success_timestamp_seconds",
            "When the newest plan was made, in seconds since the epoch (0: none yet).",
            registry=registry,
        )

    def succeeded(self, seconds: float, cost: float, counterfactual: float, now: float) -> None:
        self.runs.labels("succeeded").inc()
        self.seconds.observe(seconds)
        self.cost.set(cost)
        self.counterfactual.set(counterfactual)
        self.savings.set(counterfactual - cost)
        self.last_success.set(now)

    def failed(self, seconds: float) -> None:
        self.runs.labels("failed").inc()
        self.seconds.observe(seconds)
