"""Inventory watchers: deltas carry what changed; a watcher that falls behind gets what it missed
coalesced (each node's newest state once), never the whole fleet again."""

from __future__ import annotations

from console.client.fleet_view import FleetView
from console.hub.api.watch import PAGE, Watchers
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
    watchers.next_delta(everyone)
    watchers.next_delta(tianhe)
    inv.accept(report("a", sequence=2), 1, T0 + 10, 10.0)
    watchers.tick()
    news = watchers.next_delta(everyone)
    assert news is not None
    assert [n.identity.node for n in news.upserted] == ["a"]
    assert view.apply(news) == {"a"}
    assert view.nodes["a"].last_sequence == 2
    only = watchers.next_delta(tianhe)
    assert only is not None and [n.identity.node for n in only.upserted] == ["a"]
    inv.accept(report("b", division="440305", sequence=2), 2, T0 + 10, 10.0)
    watchers.tick()
    quiet = watchers.next_delta(tianhe)
    assert quiet is not None and list(quiet.upserted) == []


def test_events_reach_watchers_once() -> None:
    inv = Inventory(lost_after=30)
    watchers = Watchers(inv, summary)
    watcher = watchers.subscribe("")
    inv.accept(report("a"), 1, T0, 10.0)
    watchers.tick()
    first = watchers.next_delta(watcher)
    assert first is not None and [e.kind for e in first.events] == ["registered"]
    inv.sweep(T0 + 31)
    watchers.tick()
    second = watchers.next_delta(watcher)
    assert second is not None and [e.kind for e in second.events] == ["lost"]
    assert second.upserted[0].state == common_pb2.NODE_STATE_LOST


def test_a_watcher_that_falls_behind_gets_each_nodes_newest_state_once() -> None:
    inv = Inventory(lost_after=60)
    watchers = Watchers(inv, summary)
    watcher = watchers.subscribe("")
    inv.accept(report("b", division="440305"), 2, T0, 10.0)
    watchers.tick()
    assert watchers.next_delta(watcher) is not None
    assert watchers.next_delta(watcher) is None  # nothing owed until the next tick
    behind = 20
    for i in range(behind):
        inv.accept(report("a", sequence=i + 1), 1, T0 + i, 10.0)
        watchers.tick()
    assert watchers.coalesced == behind - 1
    caught_up = watchers.next_delta(watcher)
    assert caught_up is not None and not caught_up.snapshot
    assert [(n.identity.node, n.last_sequence) for n in caught_up.upserted] == [("a", behind)]
    assert [e.kind for e in caught_up.events] == ["registered"]
    assert watchers.next_delta(watcher) is None
    assert watchers.snapshots == 0
    inv.accept(report("a", sequence=behind + 1), 1, T0 + 99, 10.0)
    watchers.tick()
    after = watchers.next_delta(watcher)
    assert after is not None and after.upserted[0].last_sequence == behind + 1
    watchers.unsubscribe(watcher)
    assert not watchers.watchers


def test_a_large_change_is_sent_a_page_at_a_time() -> None:
    inv = Inventory()
    watchers = Watchers(inv, summary)
    tianhe = watchers.subscribe("440106")
    total = 2 * PAGE + 5
    for i in range(total):
        inv.accept(report(f"n{i:05d}"), i + 1, T0, 10.0)
    inv.accept(report("far", division="440305"), total + 1, T0, 10.0)
    watchers.tick()
    pages = []
    while (delta := watchers.next_delta(tianhe)) is not None:
        pages.append(delta)
    assert [len(p.upserted) for p in pages] == [PAGE, PAGE, 5]
    assert [p.HasField("summary") for p in pages] == [False, False, True]
    assert sum(p.changed_elsewhere for p in pages) == 1
    names = [n.identity.node for p in pages for n in p.upserted]
    assert sorted(names) == [f"n{i:05d}" for i in range(total)]


async def test_the_stream_sends_a_snapshot_then_deltas() -> None:
    inv = Inventory()
    watchers = Watchers(inv, summary)
    for i in range(PAGE + 1):
        inv.accept(report(f"n{i:05d}"), i + 1, T0, 10.0)
    watchers.tick()  # no one watches yet: the registrations are not owed to anyone
    watcher = watchers.subscribe("")
    stream = aiter(watchers.stream(watcher))
    view = FleetView()
    while not view.ready:
        view.apply(await anext(stream))
    assert len(view.nodes) == PAGE + 1 and watchers.snapshots == 1
    inv.accept(report("n00000", sequence=2), 1, T0 + 10, 10.0)
    watchers.tick()
    news = await anext(stream)
    assert not news.snapshot
    assert view.apply(news) >= {"n00000"}
    assert view.nodes["n00000"].last_sequence == 2


def test_the_totals_are_recomputed_no_more_than_a_tenth_of_the_time() -> None:
    inv = Inventory()
    now = [0.0]
    computed: list[float] = []

    def costly() -> inventory_pb2.FleetSummary:
        computed.append(now[0])
        now[0] += 0.3  # a whole-fleet tally at 100,000 nodes
        return inventory_pb2.FleetSummary(divisions=len(computed))

    watchers = Watchers(inv, costly, clock=lambda: now[0])
    watcher = watchers.subscribe("")
    sent = []
    for second in range(10):
        now[0] = float(second)
        watchers.tick()
        delta = watchers.next_delta(watcher)
        assert delta is not None
        sent.append(delta.summary.divisions)
    assert computed == [0.0, 3.0, 6.0, 9.0]  # each 0.3 s, then 2.7 s of loop for others
    assert sent == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4]
