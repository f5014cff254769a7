"""The live fleet and the catalog are kept until what they show changes, and then rebuilt."""

from __future__ import annotations

from console.hub.api.catalog import Catalog
from console.hub.control.workloads import WorkloadRecord
from console.hub.fleet.inventory import Inventory, NodeEntry
from console.hub.fleet.view import LiveFleet
from console.model.fleet import Cluster, Division, Fleet, Site
from console.model.inventory import NodeState
from console.model.replicas import Replicas
from tests.hub.test_inventory import GIB, T0, report
from tests.scheduler.builders import workload
from tongchou.divisions import Level

DOCUMENTS = Fleet(
    divisions={
        "440100": Division("440100", "广州市", Level.CITY, None),
        "440106": Division("440106", "天河区", Level.COUNTY, "440100"),
    },
    sites={"dc1": Site("dc1", "440106", "on-prem")},
    clusters={"gov-a": Cluster("gov-a", "dc1", 3), "gov-idle": Cluster("gov-idle", "dc1", 3)},
)


def inventory_of(*names: str) -> Inventory:
    inv = Inventory(lost_after=50.0)
    for i, name in enumerate(names):
        inv.accept(report(name), stream=i + 1, now=T0, interval=10.0)
    return inv


def test_heartbeats_keep_the_live_fleet_and_a_new_capacity_rebuilds_it() -> None:
    inv = inventory_of("n1", "n2")
    live = LiveFleet(inv)
    first = live.get(DOCUMENTS)
    assert sorted(first.nodes) == ["n1", "n2"]
    inv.accept(report("n1", sequence=2), stream=1, now=T0 + 10, interval=10.0)
    assert live.get(DOCUMENTS).nodes == first.nodes
    assert live.builds == 1
    bigger = report("n1", sequence=3)
    bigger.capacity.memory_bytes = 32 * GIB
    inv.accept(bigger, stream=1, now=T0 + 20, interval=10.0)
    assert live.get(DOCUMENTS).nodes["n1"].capacity.memory_bytes == 32 * GIB
    assert live.builds == 2


def test_a_node_going_stale_leaves_the_live_fleet_and_new_documents_rebuild_it() -> None:
    inv = inventory_of("n1", "n2")
    live = LiveFleet(inv)
    live.get(DOCUMENTS)
    inv.accept(report("n1", sequence=2), stream=1, now=T0 + 40, interval=10.0)
    inv.sweep(T0 + 40)  # n2 silent for 40 s: stale
    assert sorted(live.get(DOCUMENTS).nodes) == ["n1"]
    more = Fleet(DOCUMENTS.divisions, DOCUMENTS.sites, {"gov-b": Cluster("gov-b", "dc1", 2)})
    assert "gov-b" in live.get(more).clusters
    assert live.builds == 3


def test_callers_may_narrow_their_copy_without_changing_the_next() -> None:
    live = LiveFleet(inventory_of("n1"))
    mine = live.get(DOCUMENTS)
    mine.nodes.clear()
    assert list(live.get(DOCUMENTS).nodes) == ["n1"]


def test_the_catalog_answers_as_of_now_and_sums_nodes_once_per_change() -> None:
    inv = inventory_of("n1", "n2")
    catalog = Catalog(inv)
    placed = WorkloadRecord(
        workload("eseal", replicas=2, cpu=1.0), "", T0, Replicas({"gov-a": 2}), 0
    )
    site = catalog.site(DOCUMENTS, [placed], "dc1")
    assert site is not None
    assert site.totals.cpu_used_cores == 8.0  # two nodes of 8 CPUs at half
    assert site.allocation.replicas == 2
    cluster = catalog.cluster(DOCUMENTS, [], "gov-a")
    assert cluster is not None and cluster.allocation.replicas == 0
    assert catalog.builds == 1
    busy = report("n1", sequence=2)
    busy.usage.cpu_ratio = 1.0
    inv.accept(busy, stream=1, now=T0 + 10, interval=10.0)
    site = catalog.site(DOCUMENTS, [placed], "dc1")
    assert site is not None and site.totals.cpu_used_cores == 12.0
    assert catalog.builds == 2
    assert [d.code for d in catalog.divisions(DOCUMENTS)] == ["440100", "440106"]
    assert catalog.site(DOCUMENTS, [], "nowhere") is None
    assert catalog.builds == 2


def test_what_another_replica_stored_is_seen_by_the_live_fleet_and_the_catalog() -> None:
    inv = inventory_of("n1")
    live = LiveFleet(inv)
    catalog = Catalog(inv, live)
    live.get(DOCUMENTS)
    catalog.site(DOCUMENTS, [], "dc1")
    bigger = report("n1", sequence=2)
    bigger.capacity.memory_bytes = 32 * GIB
    bigger.usage.cpu_ratio = 1.0
    stored = NodeEntry(
        "n1", bigger, NodeState.READY, T0, T0 + 10, 10.0
    ).stored()  # as another replica wrote it
    assert inv.adopt(NodeEntry.from_stored(stored))
    assert live.get(DOCUMENTS).nodes["n1"].capacity.memory_bytes == 32 * GIB
    site = catalog.site(DOCUMENTS, [], "dc1")
    assert site is not None and site.totals.cpu_used_cores == 8.0
