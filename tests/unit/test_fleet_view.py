"""The console's fleet view: a first load shows page by page; a resync replaces it whole."""

from __future__ import annotations

from console.client.fleet_view import FleetView
from tongchou.v1 import common_pb2, inventory_pb2


def page(names: list[str], *, done: bool) -> inventory_pb2.InventoryDelta:
    nodes = [
        inventory_pb2.Node(identity=common_pb2.NodeIdentity(node=n), last_sequence=1) for n in names
    ]
    return inventory_pb2.InventoryDelta(upserted=nodes, snapshot=True, snapshot_done=done)


def test_the_first_load_shows_as_its_pages_arrive() -> None:
    view = FleetView()
    assert view.apply(page(["a", "b"], done=False)) == {"a", "b"}
    assert set(view.nodes) == {"a", "b"} and not view.ready
    assert view.apply(page(["c"], done=True)) == {"c"}
    assert set(view.nodes) == {"a", "b", "c"} and view.ready


def test_a_resync_keeps_the_old_view_until_the_new_one_is_whole() -> None:
    view = FleetView()
    view.apply(page(["a", "b", "c"], done=True))
    assert view.apply(page(["a"], done=False)) == set()
    assert set(view.nodes) == {"a", "b", "c"}  # still the old view
    view.apply(page(["d"], done=True))
    assert set(view.nodes) == {"a", "d"}  # b and c are gone


def test_counts_outside_the_scope_add_up() -> None:
    view = FleetView()
    first = page(["a"], done=True)
    first.events_elsewhere = 2
    view.apply(first)
    view.apply(inventory_pb2.InventoryDelta(changed_elsewhere=3, events_elsewhere=1))
    view.apply(inventory_pb2.InventoryDelta(changed_elsewhere=4))
    assert (view.changed_elsewhere, view.events_elsewhere) == (7, 3)
    assert set(view.nodes) == {"a"}
