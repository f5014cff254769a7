"""Inventory watchers: deltas carry what changed; a watcher that falls behind is resent all."""

from __future__ import annotations

from console.client.fleet_view import FleetView
from console.hub.api.watch import QUEUE, Watchers
from console.hub.fleet.inventory import Inventory
from tongchou.v1 import agent_pb2, common_pb2, inventory_pb2

T0 = 1_790_000_000.0


def report(name: str, division: str = "440106", sequence: int = 1) -> agent_pb2.NodeReport:
    out = agent_pb2.NodeReport(run_id="r", sequence=sequence)
    out.identity.CopyFrom(
        common_pb2.NodeIdentity(
            node=name, division=division, level=common_pb2.LEVEL_COUNTY, site="s", cluster="c",
            provider="on-prem", mlps_level=3, arch="x86_64",
        )
    )  # fmt: skip
    out.capacity.CopyFrom(common_pb2.Capacity(cpu_logical=8, memory_bytes=2**34))
    return out


def summary() -> inventory_pb2.FleetSummary:
    return inventory_pb2.FleetSummary(divisions=1)


def test_tick_sends_only_what_changed_and_only_inside_the_division() -> None:
    inv = Inventory()
    watchers = Watchers(inv, summary)
    inv.accept(report("a"), 1, T0, 10.0)
    inv.accept(report("b", division="440305"), 2, T0, 10.0)
    everyone = watchers.subscribe("")
    tianhe = watchers.subscribe("440106")
    view = FleetView()
    for delta in watchers.snapshot(everyone):
        view.apply(delta)
    assert view.ready and set(view.nodes) == {"a", "b"}
    watchers.tick()  # the registrations above
    everyone.queue.get_nowait()
    tianhe.queue.get_nowait()
    inv.accept(report("a", sequence=2), 1, T0 + 10, 10.0)
    watchers.tick()
    news = everyone.queue.get_nowait()
    assert news is not None
    assert [n.identity.node for n in news.upserted] == ["a"]
    assert view.apply(news) == {"a"}
    assert view.nodes["a"].last_sequence == 2
    only = tianhe.queue.get_nowait()
    assert only is not None and [n.identity.node for n in only.upserted] == ["a"]
    inv.accept(report("b", division="440305", sequence=2), 2, T0 + 10, 10.0)
    watchers.tick()
    quiet = tianhe.queue.get_nowait()
    assert quiet is not None and list(quiet.upserted) == []


def test_events_reach_watchers_once() -> None:
    inv = Inventory(lost_after=30)
    watchers = Watchers(inv, summary)
    watcher = watchers.subscribe("")
    inv.accept(report("a"), 1, T0, 10.0)
    watchers.tick()
    first = watcher.queue.get_nowait()
    assert first is not None and [e.kind for e in first.events] == ["registered"]
    inv.sweep(T0 + 31)
    watchers.tick()
    second = watcher.queue.get_nowait()
    assert second is not None and [e.kind for e in second.events] == ["lost"]
    assert second.upserted[0].state == common_pb2.NODE_STATE_LOST


def test_a_watcher_that_falls_behind_gets_a_snapshot_instead_of_a_backlog() -> None:
    inv = Inventory()
    watchers = Watchers(inv, summary)
    watcher = watchers.subscribe("")
    for i in range(QUEUE + 3):
        inv.accept(report("a", sequence=i + 1), 1, T0 + i, 10.0)
        watchers.tick()
    assert watcher.queue.qsize() == 1
    assert watcher.queue.get_nowait() is None  # the signal to resend a snapshot
    snapshot = list(watchers.snapshot(watcher))
    assert snapshot[-1].snapshot_done
    assert snapshot[-1].upserted[0].last_sequence == QUEUE + 3
    inv.accept(report("a", sequence=QUEUE + 4), 1, T0 + 99, 10.0)
    watchers.tick()
    after = watcher.queue.get_nowait()
    assert after is not None and after.upserted[0].last_sequence == QUEUE + 4
    watchers.unsubscribe(watcher)
    assert not watchers.watchers
