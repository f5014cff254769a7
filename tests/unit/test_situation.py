"""The situation's figures from a seeded fleet: levels with idle CPU and 信创 share, MLPS
compliance with the placements below their level, pending causes, newest failovers."""

from __future__ import annotations

from console.client.situation import (
    Situation,
    causes,
    platform_compliance,
    situation,
)
from tests.tui.situation_fleet import fleet, platforms, workloads
from tongchou.v1 import inventory_pb2
from tongchou.xinchuang import is_domestic


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


def test_platform_instances_and_tenants_per_level_and_those_below_it() -> None:
    delta = fleet()
    result = situation(
        delta.summary, delta.upserted, workloads(), delta.events, platforms=platforms()
    )
    rows = {row.level: row for row in result.mlps}
    assert (rows[2].platforms, rows[2].tenants) == (1, 3)
    assert (rows[3].platforms, rows[3].tenants) == (3, 7)
    assert (rows[4].platforms, rows[4].tenants) == (0, 0)
    assert result.platforms
    assert [(b.platform, b.site, b.need, b.has, b.tenants) for b in result.tenants_below] == [
        ("统一身份认证", "site-440305", 3, 2, ("440305", "440304"))
    ]


def test_a_platform_level_without_workloads_gets_its_row_and_unknown_sites_are_not_judged() -> None:
    unknown = inventory_pb2.PlatformInstance(
        platform="video", mlps_level=4, site="nowhere", tenants=["440106"], tenants_elsewhere=1
    )
    rows, below = platform_compliance([], [unknown])
    assert [(r.level, r.workloads, r.platforms, r.tenants) for r in rows] == [(4, 0, 1, 1)]
    assert below == []
    assert not figures().platforms  # no catalog asked: nothing to say of tenants
