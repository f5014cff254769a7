"""The situation's figures from a seeded fleet: levels with idle CPU and 信创 share, MLPS
compliance with the placements below their level, pending causes, newest failovers."""

from __future__ import annotations

from console.client.situation import Situation, causes, is_domestic, situation
from tests.tui.situation_fleet import fleet, workloads


def figures() -> Situation:
    delta = fleet()
    return situation(delta.summary, delta.upserted, workloads(), delta.events)


def test_domestic_chips() -> None:
    assert is_domestic("aarch64", "kunpeng-920")
    assert is_domestic("x86_64", "hygon-7380")
    assert is_domestic("loongarch64", "")
    assert is_domestic("sw_64", "")
    assert not is_domestic("x86_64", "intel-xeon-6330")
    assert not is_domestic("aarch64", "ampere-altra")


def test_levels_idle_and_domestic_share() -> None:
    rows = {row.level: row for row in figures().levels}
    assert list(rows) == ["province", "county"]
    assert rows["county"].idle_cores == 1152 - 201.6
    assert rows["county"].stale == 1 and rows["county"].lost == 1
    # 24 nodes of 64 cores: the 6 of 南山区 (440305) are Intel, every other one domestic
    assert rows["province"].domestic_share == 1.0
    assert rows["county"].cores == 18 * 64
    assert rows["county"].domestic_cores == 12 * 64


def test_mlps_rows_and_placements_below_level() -> None:
    result = figures()
    by_level = {row.level: row for row in result.mlps}
    assert (by_level[2].workloads, by_level[2].replicas, by_level[2].clusters) == (1, 2, 1)
    assert (by_level[3].workloads, by_level[3].replicas) == (3, 10)
    assert by_level[4].workloads == 1 and by_level[4].clusters == 1
    assert [(b.workload, b.cluster, b.need, b.has, b.replicas) for b in result.below] == [
        ("identity", "cluster-440305", 3, 2, 1)
    ]


def test_pending_causes_count_replicas_most_first() -> None:
    assert causes("0/5 clusters: 4 MLPS level below the workload's, 1 no room") == [
        "MLPS level below the workload's",
        "no room",
    ]
    assert causes("no fleet yet") == ["no fleet yet"]
    assert figures().pending == [
        ("no room for a replica", 7),
        ("MLPS level below the workload's", 6),
    ]


def test_failovers_newest_first() -> None:
    assert [e.subject for e in figures().failovers] == ["cluster-441422", "cluster-440106"]
