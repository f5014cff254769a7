"""A workload's status as a scoped caller reads it: the clusters failover holds out are named
when they lie in the caller's scope, and only counted when they do not."""

from __future__ import annotations

from pathlib import Path

from console.hub.api.intake import Intake
from console.hub.api.scope import Scope
from console.hub.control.workloads import HELD_OUT, WorkloadManager
from console.hub.fleet.inventory import Inventory
from console.model.fleet import Fleet
from console.security.roles import Principal
from console.store import SqliteStore
from tongchou.v1 import workloads_pb2

COUNTY = Principal("user", "county-op", ("operator",), "440106")


def _scope(tmp_path: Path, fleet: Fleet) -> Scope:
    inventory = Inventory()
    manager = WorkloadManager(SqliteStore(tmp_path / "hub.db"), inventory, fleet, [])
    return Scope(inventory, manager, Intake())


def test_held_out_clusters_outside_the_scope_are_counted(
    tmp_path: Path, sample_fleet: Fleet
) -> None:
    scope = _scope(tmp_path, sample_fleet)
    held = "yuexiu-gov, tianhe-gov, sz-city-gov, liede-gov"
    status = workloads_pb2.WorkloadStatus(reason=f"1 of 3 fit{HELD_OUT}{held}")
    assert scope.status(status, COUNTY).reason == (
        f"1 of 3 fit{HELD_OUT}tianhe-gov, liede-gov, 2 clusters outside 440106"
    )
    alone = workloads_pb2.WorkloadStatus(reason=f"0 of 3 fit{HELD_OUT}sz-city-gov")
    assert scope.status(alone, COUNTY).reason == f"0 of 3 fit{HELD_OUT}1 cluster outside 440106"
    listed = workloads_pb2.ListWorkloadsResponse(
        workloads=[
            workloads_pb2.WorkloadStatus(owner="440106", reason=f"x{HELD_OUT}yuexiu-gov"),
            workloads_pb2.WorkloadStatus(owner="440104", reason="theirs"),
        ]
    )
    assert [w.reason for w in scope.list_workloads(listed, COUNTY).workloads] == [
        f"x{HELD_OUT}1 cluster outside 440106"
    ]


def test_a_status_without_held_out_clusters_is_unchanged(
    tmp_path: Path, sample_fleet: Fleet
) -> None:
    status = workloads_pb2.WorkloadStatus(reason="2 of 3 fit: 1 cluster full")
    assert _scope(tmp_path, sample_fleet).status(status, COUNTY).reason == status.reason
