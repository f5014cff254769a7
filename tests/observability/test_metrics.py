"""The hub's and the agent's /metrics: the scrape-time collectors' values, and promtool's lint."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from agent.metrics import AgentMetrics, NodeCollector
from console.hub.collectors import (
    AllocationCollector,
    FleetCollector,
    PlannerMetrics,
    WorkloadCollector,
    workload_state,
)
from console.hub.control.workloads import WorkloadRecord
from console.hub.fleet.inventory import Inventory
from console.hub.metrics import HubMetrics
from console.model.fleet import Cluster, Division, Fleet, Site
from console.model.inventory import NodeState
from console.model.replicas import Replicas
from tests.hub.test_inventory import report
from tests.observability.conftest import run_promtool
from tests.scheduler.builders import workload
from tongchou.divisions import Level

GIB = 2**30
T0 = 1_750_000_000.0
Samples = dict[str, list[tuple[dict[str, str], float]]]


def samples(registry: CollectorRegistry) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


def record(name: str, replicas: int, placed: dict[str, int], cpu: float = 2) -> WorkloadRecord:
    pending = replicas - sum(placed.values())
    return WorkloadRecord(
        workload(name, replicas=replicas, cpu=cpu, memory=4), "", T0, Replicas(placed), pending
    )


def documents() -> Fleet:
    return Fleet(
        divisions={"440106": Division("440106", "天河区", Level.COUNTY, "440100")},
        sites={"dc1": Site("dc1", "440106", "on-prem")},
        clusters={
            "gov-a": Cluster("gov-a", "dc1", 3),
            "gov-idle": Cluster("gov-idle", "dc1", 3),
        },
    )


def hub_registry() -> tuple[CollectorRegistry, HubMetrics, PlannerMetrics, Inventory]:
    inv = Inventory()
    for i in range(3):
        inv.accept(report(f"n{i}", cluster="gov-a"), stream=i + 1, now=T0, interval=10.0)
    inv.accept(report("t1", division="440106001", cluster="gov-t"), stream=9, now=T0, interval=10.0)
    inv.nodes["n2"].state = NodeState.STALE
    records = {
        "eseal": record("eseal", 4, {"gov-a": 3}),
        "idaas": record("idaas", 2, {"gov-a": 1, "gov-t": 1}, cpu=0.5),
        "video": record("video", 1, {}),
    }
    metrics = HubMetrics()
    planner = PlannerMetrics(metrics.registry)
    metrics.registry.register(FleetCollector(inv))
    metrics.registry.register(AllocationCollector(inv, lambda: records, documents))
    metrics.registry.register(WorkloadCollector(lambda: records))
    return metrics.registry, metrics, planner, inv


def by_label(found: Samples, name: str, label: str) -> dict[str, float]:
    return {labels[label]: value for labels, value in found[name]}


def test_allocation_per_cluster_sums_placed_replicas_with_the_clusters_labels() -> None:
    registry, *_ = hub_registry()
    found = samples(registry)
    cpu = {
        tuple(labels[k] for k in ("cluster", "site", "division", "level")): value
        for labels, value in found["tongchou_hub_cluster_cpu_allocated_cores"]
    }
    assert cpu == {
        ("gov-a", "dc1", "440106", "county"): 3 * 2 + 1 * 0.5,
        ("gov-idle", "dc1", "440106", "county"): 0.0,  # from the documents: no node yet
        ("gov-t", "dc1", "440106001", "township"): 0.5,  # from its node's report
    }
    memory = by_label(found, "tongchou_hub_cluster_memory_allocated_bytes", "cluster")
    assert memory["gov-a"] == 4 * 4 * GIB


def test_workloads_by_state_and_pending_replicas() -> None:
    registry, *_ = hub_registry()
    found = samples(registry)
    assert by_label(found, "tongchou_hub_workloads", "state") == {
        "placed": 1.0, "partial": 1.0, "pending": 1.0,
    }  # fmt: skip
    assert by_label(found, "tongchou_hub_workload_pending_replicas", "workload") == {
        "eseal": 1.0, "idaas": 0.0, "video": 1.0,
    }  # fmt: skip
    assert by_label(found, "tongchou_hub_workload_desired_replicas", "workload") == {
        "eseal": 4.0, "idaas": 2.0, "video": 1.0,
    }  # fmt: skip
    placed = {
        (labels["workload"], labels["cluster"]): value
        for labels, value in found["tongchou_hub_workload_placed_replicas"]
    }
    assert placed == {("eseal", "gov-a"): 3.0, ("idaas", "gov-a"): 1.0, ("idaas", "gov-t"): 1.0}
    assert workload_state(record("x", 2, {"a": 2})) == "placed"


def test_nodes_by_state_per_cluster() -> None:
    registry, *_ = hub_registry()
    nodes = {
        (labels["cluster"], labels["state"]): value
        for labels, value in samples(registry)["tongchou_hub_nodes"]
    }
    assert nodes == {("gov-a", "ready"): 2.0, ("gov-a", "stale"): 1.0, ("gov-t", "ready"): 1.0}


def test_planner_runs_cost_and_savings() -> None:
    registry, _metrics, planner, _inv = hub_registry()
    planner.succeeded(2.0, cost=3.0e6, counterfactual=5.5e6, now=T0)
    planner.failed(1.0)
    found = samples(registry)
    assert by_label(found, "tongchou_hub_plan_runs_total", "result") == {
        "succeeded": 1.0, "failed": 1.0,
    }  # fmt: skip
    assert found["tongchou_hub_plan_cost_cny"][0][1] == 3.0e6
    assert found["tongchou_hub_plan_savings_cny"][0][1] == 2.5e6
    assert found["tongchou_hub_plan_last_success_timestamp_seconds"][0][1] == T0
    assert found["tongchou_hub_plan_duration_seconds_count"][0][1] == 2.0


def test_hub_output_passes_promtool_check_metrics(promtool: str) -> None:
    registry, metrics, planner, _inv = hub_registry()
    metrics.ingest_seconds.observe(0.002)
    metrics.rejected.labels("oversized").inc()
    planner.succeeded(2.0, cost=3.0e6, counterfactual=5.5e6, now=T0)
    text = generate_latest(registry).decode()
    assert "tongchou_hub_cluster_cpu_allocated_cores" in text
    run_promtool(promtool, "check", "metrics", stdin=text)


def test_agent_output_passes_promtool_check_metrics(promtool: str) -> None:
    metrics = AgentMetrics()
    latest = report("n1")
    metrics.register(NodeCollector(lambda: latest))
    metrics.reports.labels("accepted").inc()
    metrics.set_transport("h2")
    text = metrics.render().decode()
    assert "tongchou_node_cpu_cores" in text
    run_promtool(promtool, "check", "metrics", stdin=text)


def test_promtool_check_metrics_does_fail_on_a_bad_exposition(promtool: str) -> None:
    """The lint above can fail: a counter without _total is reported."""
    bad = "# HELP x_requests Requests.\n# TYPE x_requests counter\nx_requests 1\n"
    import subprocess

    done = subprocess.run(
        [promtool, "check", "metrics"], input=bad, capture_output=True, text=True, check=False
    )
    assert done.returncode != 0
    assert "_total" in done.stdout + done.stderr
