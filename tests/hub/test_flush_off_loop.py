"""The heartbeat flush writes every node's row; the rows (a serialisation of each node's newest
report) are built on the writer's thread with the transaction, not on the hub's event loop."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from console.hub.fleet.flusher import Flusher
from console.hub.fleet.inventory import Inventory, NodeEntry
from console.hub.metrics import HubMetrics
from console.model.inventory import NodeState
from console.store import SqliteStore
from console.store.base import StoredNode
from tests.hub.test_watch import T0, report


def on_the_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def test_the_rows_are_built_off_the_loop_and_as_they_were_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inv = Inventory()
    store = SqliteStore(tmp_path / "hub.db")
    flusher = Flusher(inv, store, HubMetrics(), interval=1.0)
    for i in range(50):
        inv.accept(report(f"n{i:02d}"), i + 1, T0, 10.0)
    built: list[bool] = []
    stored = NodeEntry.stored

    def spy(entry: NodeEntry) -> StoredNode:
        built.append(on_the_loop())
        return stored(entry)

    monkeypatch.setattr(NodeEntry, "stored", spy)
    await flusher.flush(full=True)
    assert len(built) == 50 and not any(built)
    assert {row.name for row in store.load_nodes()} == {f"n{i:02d}" for i in range(50)}
    # what was taken is written, even if the node changes while the rows are built
    inv.accept(report("n00", sequence=2), 1, T0 + 10, 10.0)
    entries, _events = inv.take_dirty_entries()
    inv.sweep(T0 + 999)
    assert inv.nodes["n00"].state is NodeState.LOST
    assert [(e.name, e.state, e.report.sequence) for e in entries] == [("n00", NodeState.READY, 2)]
