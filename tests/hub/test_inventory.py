"""Tests for the live inventory (Inventory, NodeEntry, Totals), the report pacer and the
answers to agents and relays."""

from __future__ import annotations

import grpc
import pytest

from console.hub.api.messages import AgentAcks
from console.hub.fleet.acks import Refusal
from console.hub.fleet.inventory import Inventory, NodeEntry
from console.hub.fleet.pacing import Pacer
from console.model.inventory import NodeState
from tongchou.v1 import agent_pb2, common_pb2, relay_pb2

GIB = 2**30
T0 = 1_750_000_000.0

_LEVELS = {6: common_pb2.LEVEL_COUNTY, 9: common_pb2.LEVEL_TOWNSHIP}


def report(
    name: str = "n1", division: str = "440106", sequence: int = 1, cluster: str = "gov-a"
) -> agent_pb2.NodeReport:
    level = common_pb2.LEVEL_CITY if division.endswith("00") else _LEVELS[len(division)]
    rep = agent_pb2.NodeReport(
        identity=common_pb2.NodeIdentity(
            node=name,
            division=division,
            level=level,
            site="dc1",
            cluster=cluster,
            provider="on-prem",
            mlps_level=3,
            arch="x86_64",
            labels={"rack": "a3"},
        ),
        run_id="run-1",
        sequence=sequence,
        capacity=common_pb2.Capacity(cpu_logical=8, cpu_physical=4, memory_bytes=16 * GIB),
        usage=common_pb2.Usage(cpu_ratio=0.5, memory_used_bytes=4 * GIB),
    )
    rep.boot_time.FromSeconds(1_700_000_000)
    return rep


def state_of(inv: Inventory, name: str) -> NodeState:
    return inv.nodes[name].state


def test_accept_registers_new_node() -> None:
    inv = Inventory()
    entry, registered = inv.accept(report(), stream=1, now=T0, interval=10.0)
    assert registered is True
    assert entry.name == "n1"
    assert entry.state is NodeState.READY
    assert (entry.first_seen, entry.last_seen, entry.interval, entry.stream) == (T0, T0, 10.0, 1)
    assert inv.dirty == {"n1"}
    assert [(e.kind, e.node, e.at) for e in inv.events] == [("registered", "n1", T0)]
    assert inv.events[0].message == "gov-a at dc1 (440106)"
    assert inv.pending_events == list(inv.events)


def test_same_identity_is_not_a_registration() -> None:
    inv = Inventory()
    inv.accept(report(sequence=1), 1, T0, 10.0)
    inv.take_dirty()
    entry, registered = inv.accept(report(sequence=2), 1, T0 + 10, 10.0)
    assert registered is False
    assert entry.last_seen == T0 + 10
    assert entry.first_seen == T0
    assert entry.report.sequence == 2
    assert inv.dirty == set()
    assert inv.touched == {"n1"}
    assert inv.pending_events == []
    assert inv.take_dirty(full=False) == ([], [])
    rows, _events = inv.take_dirty(full=True)
    assert [(r.name, r.sequence) for r in rows] == [("n1", 2)]
    assert inv.touched == set()


def test_changed_identity_is_relabelled() -> None:
    inv = Inventory()
    inv.accept(report(cluster="gov-a"), 1, T0, 10.0)
    _entry, registered = inv.accept(report(cluster="gov-b", sequence=2), 2, T0 + 5, 10.0)
    assert registered is True
    last = inv.events[-1]
    assert (last.kind, last.node) == ("relabelled", "n1")
    assert last.message == "was gov-a at dc1 (440106)"
    assert inv.nodes["n1"].identity.cluster == "gov-b"


def test_sweep_stale_then_lost_then_ready() -> None:
    inv = Inventory(lost_after=120.0)
    inv.accept(report(), 1, T0, 10.0)
    inv.take_dirty()
    assert inv.sweep(T0 + 30) == 0  # exactly 3 intervals: not yet
    assert state_of(inv, "n1") is NodeState.READY
    assert inv.sweep(T0 + 31) == 1
    assert state_of(inv, "n1") is NodeState.STALE
    assert inv.events[-1].kind == "stale"
    assert inv.events[-1].message == "no report for 31s"
    assert inv.sweep(T0 + 60) == 0  # stale stays stale until lost_after
    assert inv.sweep(T0 + 121) == 1
    assert state_of(inv, "n1") is NodeState.LOST
    assert inv.events[-1].kind == "lost"
    assert inv.sweep(T0 + 500) == 0
    rows, events = inv.take_dirty()
    assert [r.state for r in rows] == ["lost"]
    assert [e.kind for e in events] == ["stale", "lost"]
    inv.accept(report(sequence=2), 2, T0 + 501, 10.0)
    assert state_of(inv, "n1") is NodeState.READY
    assert inv.events[-1].kind == "ready"
    assert inv.events[-1].message == "reporting again (was lost)"


def test_sweep_uses_each_nodes_interval() -> None:
    inv = Inventory()
    inv.accept(report("fast"), 1, T0, 5.0)
    inv.accept(report("slow"), 2, T0, 30.0)
    assert inv.sweep(T0 + 16) == 1
    assert state_of(inv, "fast") is NodeState.STALE
    assert state_of(inv, "slow") is NodeState.READY
    assert inv.count_live() == 2


def test_take_dirty_once() -> None:
    inv = Inventory()
    inv.accept(report("b"), 1, T0, 10.0)
    inv.accept(report("a"), 2, T0, 10.0)
    rows, events = inv.take_dirty()
    assert [r.name for r in rows] == ["a", "b"]
    assert len(events) == 2
    assert inv.take_dirty() == ([], [])
    assert len(inv.events) == 2  # the recent-events ring keeps them


def test_stored_round_trip() -> None:
    inv = Inventory()
    entry, _ = inv.accept(report(sequence=7), 3, T0, 12.5)
    entry.state = NodeState.STALE
    row = entry.stored()
    assert (row.name, row.division, row.site, row.cluster) == ("n1", "440106", "dc1", "gov-a")
    assert (row.state, row.run_id, row.sequence, row.interval) == ("stale", "run-1", 7, 12.5)
    assert row.boot_time == 1_700_000_000.0
    back = NodeEntry.from_stored(row)
    assert back.name == "n1"
    assert back.state is NodeState.STALE
    assert back.identity == entry.identity
    assert dict(back.identity.labels) == {"rack": "a3"}
    assert back.report.capacity == entry.report.capacity
    assert back.report.usage == entry.report.usage
    assert back.report.run_id == "run-1"
    assert back.report.sequence == 7
    assert back.report.boot_time.seconds == 1_700_000_000
    assert (back.first_seen, back.last_seen, back.interval) == (T0, T0, 12.5)
    assert back.stored() == row


def test_load_then_select_in_order() -> None:
    inv = Inventory()
    for name in ("c", "a", "b"):
        inv.accept(report(name), 1, T0, 10.0)
    other = Inventory()
    other.load(e.stored() for e in inv.nodes.values())
    assert [e.name for e in other.select()] == ["a", "b", "c"]
    assert other.dirty == set()


def test_select_filters_and_pages() -> None:
    inv = Inventory()
    inv.accept(report("a1", "440106"), 1, T0, 10.0)
    inv.accept(report("a2", "440106001"), 1, T0, 10.0)
    inv.accept(report("b1", "440306"), 1, T0, 10.0)
    inv.accept(report("c1", "440100"), 1, T0 - 100, 10.0)
    inv.sweep(T0)
    assert state_of(inv, "c1") is NodeState.STALE

    def names(division: str = "", state: NodeState | None = None, after: str = "") -> list[str]:
        return [e.name for e in inv.select(division, state, after)]

    assert names() == ["a1", "a2", "b1", "c1"]
    assert names(division="440100") == ["a1", "a2", "c1"]
    assert names(division="440106") == ["a1", "a2"]
    assert names(division="440106001") == ["a2"]
    assert names(division="440300") == ["b1"]
    assert names(state=NodeState.STALE) == ["c1"]
    assert names(division="440100", state=NodeState.READY) == ["a1", "a2"]
    assert names(after="a2") == ["b1", "c1"]
    assert names(after="a") == ["a1", "a2", "b1", "c1"]
    assert names(after="c1") == []
    assert names(division="440100", after="a1") == ["a2", "c1"]


def test_totals_by_level() -> None:
    inv = Inventory(lost_after=50.0)
    inv.accept(report("a", "440106"), 1, T0, 10.0)
    inv.accept(report("b", "440106"), 1, T0 - 200, 10.0)
    inv.accept(report("t", "440106001"), 1, T0, 10.0)
    inv.sweep(T0)
    inv.sweep(T0)
    assert state_of(inv, "b") is NodeState.LOST
    tally = inv.tally()
    total, levels = tally.total, tally.levels
    assert (total.ready, total.stale, total.lost, total.nodes) == (2, 0, 1, 3)
    assert total.cpu_cores == 24
    assert total.cpu_used_cores == pytest.approx(8.0)  # lost nodes use nothing
    assert total.memory_bytes == 48 * GIB
    assert total.memory_used_bytes == 8 * GIB
    assert set(levels) == {common_pb2.LEVEL_COUNTY, common_pb2.LEVEL_TOWNSHIP}
    county = levels[common_pb2.LEVEL_COUNTY]
    assert (county.ready, county.lost, county.cpu_cores) == (1, 1, 16)
    assert levels[common_pb2.LEVEL_TOWNSHIP].nodes == 1
    assert (tally.divisions, tally.clusters) == ({"440106", "440106001"}, {"gov-a"})


# -- Pacer -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("live", "expected"),
    [(0, 10.0), (5_000, 10.0), (20_000, 20.0), (20_040, 20.0), (20_060, 20.1), (123_456, 123.5)],
)
def test_pacer_adjust(live: int, expected: float) -> None:
    pacer = Pacer(base=10.0, max_rate=1000.0)
    assert pacer.adjust(live) == expected
    assert pacer.interval == expected


def test_pacer_zero_rate_keeps_base() -> None:
    assert Pacer(base=5.0, max_rate=0.0).adjust(1_000_000) == 5.0


def test_report_ack_parses() -> None:
    acks, pacer = AgentAcks(), Pacer(base=10.0, max_rate=100.0)
    ack = agent_pb2.ReportAck.FromString(acks.report(42, pacer.interval, draining=False))
    assert ack.sequence == 42
    assert ack.accepted is True
    assert ack.report_interval.ToTimedelta().total_seconds() == 10.0
    assert list(ack.commands) == []
    pacer.adjust(2_500)
    ack = agent_pb2.ReportAck.FromString(acks.report(43, pacer.interval, draining=False))
    assert (ack.sequence, ack.accepted) == (43, True)
    assert ack.report_interval.ToTimedelta().total_seconds() == 25.0


def test_report_ack_while_draining_asks_to_reconnect() -> None:
    ack = agent_pb2.ReportAck.FromString(AgentAcks().report(7, 10.0, draining=True))
    assert [c.kind for c in ack.commands] == [agent_pb2.Command.KIND_RECONNECT]
    assert ack.commands[0].delay.seconds == 5
    assert ack.accepted is True


def test_relay_ack_carries_refusals_and_interval() -> None:
    refusals = [Refusal("gz-a-1", grpc.StatusCode.PERMISSION_DENIED, "not this site's node")]
    raw = AgentAcks().relay(9, 3, refusals, 12.5, draining=True)
    ack = relay_pb2.RelayAck.FromString(raw)
    assert (ack.batch, ack.accepted) == (9, 3)
    assert [(r.node, r.code, r.message) for r in ack.refusals] == [
        ("gz-a-1", grpc.StatusCode.PERMISSION_DENIED.value[0], "not this site's node")
    ]
    assert ack.report_interval.ToNanoseconds() == 12_500_000_000
    assert [c.kind for c in ack.commands] == [agent_pb2.Command.KIND_RECONNECT]


def test_pacer_rate_over_last_minute() -> None:
    pacer = Pacer(base=10.0, max_rate=100.0)
    assert pacer.rate(T0) == 0.0
    for second in range(60):
        for _ in range(3):
            pacer.count(T0 + second + 0.5)
    # At T0+60 the last full minute is T0 .. T0+59.
    assert pacer.rate(T0 + 60) == pytest.approx(3.0)
    # The current, unfinished second is not counted.
    pacer.count(T0 + 60.2)
    assert pacer.rate(T0 + 60.9) == pytest.approx(3.0)
    # A minute later, T0+60 alone is in the window.
    assert pacer.rate(T0 + 120) == pytest.approx(1 / 60)
    assert pacer.rate(T0 + 200) == 0.0


def test_pacer_ack_interval_is_exact() -> None:
    pacer = Pacer(base=10.0, max_rate=1000.0)
    assert pacer.adjust(16_400) == 16.4
    ack = agent_pb2.ReportAck.FromString(AgentAcks().report(1, pacer.interval, draining=False))
    assert ack.report_interval.ToNanoseconds() == 16_400_000_000
    assert ack.report_interval.ToTimedelta().total_seconds() == 16.4
