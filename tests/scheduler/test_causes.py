"""Pending replicas lead with the deciding fact, then the per-policy counts."""

from __future__ import annotations

from console.scheduler import Scheduler
from console.scheduler.result import Placement

from .builders import C, N, S, fleet, workload
from .strategies import DEFAULT_POLICIES


def why(clusters: list[C], **spec: object) -> Placement:
    return Scheduler(fleet(clusters), DEFAULT_POLICIES).place(workload(**spec), explain=True)  # type: ignore[arg-type]


def test_a_missing_mlps_level_is_named_before_the_counts() -> None:
    clusters = [C(f"gd-{i}", f"site-{i}", mlps=3) for i in range(3)]
    clusters += [C("sz-0", "sz-site", mlps=2)]
    p = why(clusters, mlps=4, replicas=2)
    assert p.pending == 2
    assert p.reason.startswith(
        "no cluster at MLPS level 4 exists (the highest with ready nodes is 3); "
    )
    assert p.reason.endswith(p.summary)


def test_a_missing_arch_is_named_though_the_arch_policy_sorts_first() -> None:
    clusters = [C("gd-x86", "a"), C("gd-arm", "b", nodes=(N(arch="aarch64", chip="kunpeng-920"),))]
    p = why(clusters, archs=("loongarch64",), replicas=2)
    assert p.reason.startswith(
        "no loongarch64 node in any eligible cluster (2 clusters pass the other rules)"
    )


def test_a_replica_bigger_than_any_node_names_the_largest_free_node() -> None:
    big = N(cpu=32, memory=128, count=4)
    clusters = [
        C("gd-a", "a", nodes=(big,)),
        C("gd-b", "b", nodes=(N(cpu=64, memory=256, used_cpu=40),)),
    ]
    p = why(clusters, cpu=48, memory=16, replicas=1)
    assert p.pending == 1
    assert p.reason.startswith(
        "no node can hold one replica (48 CPU and 16.0Gi): the largest free node of the "
        "2 eligible clusters is gd-a-00 (gd-a) with 32 CPU and 128Gi free, though they have "
        "152 CPU free in all"
    ), p.reason


def test_a_headroom_limit_gives_its_numbers() -> None:
    full = N(cpu=32, memory=128, used_cpu=28)
    p = why([C("gd-a", "a", nodes=(full,))], cpu=1, replicas=2)
    assert p.pending == 2
    assert p.reason.startswith(
        "headroom allows none in 1 cluster with room (would pass 85% of allocatable CPU or "
        "memory): e.g. gd-a has room for 4, limit -0.8 at 88% of its CPU and 0% of its memory"
    ), p.reason


def test_a_partial_placement_says_which_clusters_are_full() -> None:
    p = why([C("gd-a", "a", nodes=(N(cpu=8, memory=64),))], cpu=2, replicas=5)
    assert p.placed_total == 3 and p.pending == 2
    assert p.reason.startswith(
        "only 3 of 5 fit (2 CPU and 1.0Gi each): headroom holds 1 cluster"
    ), p.reason


def test_a_spread_shortfall_leads() -> None:
    clusters = [C("gd-a", "a"), C("gd-b", "a")]
    p = why(clusters, min_sites=2, replicas=4)
    assert p.reason.startswith("spread: needs 2 sites, 1 eligible (a)"), p.reason


def test_the_nearest_clusters_when_no_rule_alone_removes_all() -> None:
    clusters = [C("gd-low", "a", mlps=2), C("sz-own", "sz", shared=False)]
    sites = [S("a"), S("sz", division="440300")]
    p = Scheduler(fleet(clusters, sites), DEFAULT_POLICIES).place(workload(mlps=3), explain=True)
    assert p.reason.startswith("no cluster passes every rule; closest: "), p.reason
