"""What a hub replica takes from the others: newer node rows, their events, and whose nodes
it sweeps (its own streams; the leader also those no replica streams, with a grace)."""

from __future__ import annotations

from dataclasses import replace

from console.hub.fleet.inventory import Inventory, NodeEntry
from console.model.inventory import Event, NodeState
from tests.unit.test_inventory import T0, report, state_of


def stored_entry(name: str, last_seen: float, state: str = "ready") -> NodeEntry:
    """A node as another replica wrote it (it streams to no one here)."""
    row = replace(
        NodeEntry(name, report(name), NodeState.READY, T0, last_seen, 10.0).stored(), state=state
    )
    return NodeEntry.from_stored(row)


def test_adopts_only_newer_rows_and_never_writes_them_back() -> None:
    inv = Inventory()
    inv.accept(report("mine"), stream=3, now=T0 + 50, interval=10.0)
    inv.take_dirty()
    generation = inv.generation
    assert inv.adopt(stored_entry("theirs", T0 + 40)) is True
    assert inv.adopt(stored_entry("mine", T0 + 45)) is False  # ours is newer
    assert inv.nodes["mine"].stream == 3
    assert inv.adopt(stored_entry("theirs", T0 + 40)) is False  # not newer either
    assert [e.name for e in inv.select()] == ["mine", "theirs"]  # pages list the new node
    assert inv.changed >= {"theirs"}
    assert inv.generation == generation + 1
    assert inv.adopt(stored_entry("theirs", T0 + 60, "stale")) is True
    assert state_of(inv, "theirs") is NodeState.STALE
    assert inv.generation == generation + 2
    assert inv.take_dirty() == ([], [])


def test_events_of_others_are_shown_not_written() -> None:
    inv = Inventory()
    seen = inv.event_count
    inv.remember(Event(T0, "lost", "theirs", "no report for 130s"))
    assert inv.event_count == seen + 1
    assert inv.events[-1].node == "theirs"
    assert inv.pending_events == []


def test_sweep_of_nodes_streaming_elsewhere() -> None:
    inv = Inventory(lost_after=120.0)
    inv.accept(report("mine"), stream=3, now=T0, interval=10.0)
    inv.adopt(stored_entry("theirs", T0))
    # A follower sweeps its own streams only.
    assert inv.sweep(T0 + 31.0, remote=None) == 1
    assert state_of(inv, "mine") is NodeState.STALE
    assert state_of(inv, "theirs") is NodeState.READY
    # The leader gives a node no replica streams here the grace of another's heartbeats.
    assert inv.sweep(T0 + 60.0, remote=36.0) == 0
    assert inv.sweep(T0 + 67.0, remote=36.0) == 1
    assert state_of(inv, "theirs") is NodeState.STALE
    assert inv.events[-1].message == "no report for 67s"
    # A single hub judges every node alike.
    single = Inventory()
    single.adopt(stored_entry("loaded", T0))
    assert single.sweep(T0 + 31.0) == 1
