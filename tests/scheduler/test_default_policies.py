"""Each default policy on a small fleet where it bites, and how the explanation names it."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from console.model.fleet import Fleet
from console.model.workload import DataClass, PlacementPolicy, PolicyForm, Workload
from console.scheduler import ClusterVerdict, Placement, Scheduler

from .builders import POLICY, C, N, S, fleet, policies, workload

KUNPENG = N(arch="aarch64", chip="kunpeng-920")


def place(f: Fleet, policy_list: Sequence[PlacementPolicy], w: Workload) -> Placement:
    return Scheduler(f, policy_list).place(w, explain=True)


def verdict(p: Placement, cluster: str) -> ClusterVerdict:
    assert p.verdicts is not None
    [found] = [v for v in p.verdicts if v.cluster == cluster]
    return found


def assert_removed(p: Placement, cluster: str, policy: str) -> None:
    v = verdict(p, cluster)
    assert (v.removed_by, v.reason) == (policy, POLICY[policy].message)
    assert v.replicas == 0
    assert cluster not in p.placed


def test_default_policies_are_the_seven_documented() -> None:
    assert {p.name: p.form for p in POLICY.values()} == {
        "architecture": PolicyForm.REQUIRE,
        "east-west": PolicyForm.PREFER,
        "headroom": PolicyForm.LIMIT,
        "level-reuse": PolicyForm.REQUIRE,
        "mlps": PolicyForm.REQUIRE,
        "residency": PolicyForm.REQUIRE,
        "spread": PolicyForm.SPREAD,
    }


# -- mlps --------------------------------------------------------------------------------


def test_mlps_keeps_a_level_3_system_off_level_2_clusters() -> None:
    f = fleet([C("a", "s-a", mlps=2), C("b", "s-b", mlps=2), C("c", "s-c", mlps=3)])
    w = workload(mlps=3, replicas=3)
    with_ = place(f, policies("mlps"), w)
    without = place(f, [], w)
    assert with_.placed == {"c": 3}
    assert_removed(with_, "a", "mlps")
    assert_removed(with_, "b", "mlps")
    assert with_.summary == "1/3 clusters: 2 MLPS level below the workload's"
    assert without.placed == {"a": 1, "b": 1, "c": 1}
    assert without.summary == ""


def test_summary_counts_every_reason_when_nothing_is_left() -> None:
    f = fleet(
        [
            C("a", "s-a", mlps=2),
            C("b", "s-b", mlps=2, nodes=(KUNPENG,)),
            C("c", "s-c", mlps=3),
        ]
    )
    w = workload(mlps=3, archs=("aarch64",), replicas=3)
    p = place(f, policies("mlps", "architecture"), w)
    expected = "0/3 clusters: 2 MLPS level below the workload's, 1 arch not allowed"
    assert p.placed == {}
    assert p.pending == 3
    assert p.summary == expected
    # the deciding fact leads: no allowed arch where the other rules would place it
    assert (
        p.reason
        == "no aarch64 node in any eligible cluster (1 cluster passes the other rules); " + expected
    )
    assert_removed(p, "c", "architecture")
    # Without mlps, the level-2 aarch64 cluster takes them all.
    assert place(f, policies("architecture"), w).placed == {"b": 3}


# -- architecture ------------------------------------------------------------------------


def test_architecture_names_the_clusters_without_an_allowed_arch() -> None:
    f = fleet([C("x", "s-x"), C("y", "s-y", nodes=(KUNPENG,))])
    w = workload(archs=("aarch64",), replicas=3)
    with_ = place(f, policies("architecture"), w)
    assert with_.placed == {"y": 3}
    assert_removed(with_, "x", "architecture")
    assert with_.summary == "1/2 clusters: 1 arch not allowed"
    # The fit estimate counts only allowed nodes, so the placement is the same without the
    # policy; the explanation then blames fit.
    without = place(f, [], w)
    assert without.placed == {"y": 3}
    assert verdict(without, "x").removed_by == "fit"
    assert without.summary == "1/2 clusters: 1 no allowed node"


def test_architecture_checks_chips_too() -> None:
    f = fleet([C("intel", "s-1"), C("hygon", "s-2", nodes=(N(chip="hygon-7380"),))])
    w = workload(archs=("x86_64",), chips=("hygon-7380",), replicas=2)
    p = place(f, policies("architecture"), w)
    assert p.placed == {"hygon": 2}
    assert_removed(p, "intel", "architecture")


def test_fit_of_a_mixed_cluster_counts_only_its_allowed_nodes() -> None:
    mixed = C("mixed", "s-1", nodes=(N(cpu=32), N(arch="aarch64", chip="kunpeng-920", cpu=4)))
    p = place(fleet([mixed]), policies("architecture"), workload(archs=("aarch64",), replicas=9))
    assert verdict(p, "mixed").fit == 4
    assert p.placed == {"mixed": 4}
    assert p.pending == 5
    assert p.reason == (
        "only 4 of 9 fit (1 CPU and 1.0Gi each): the 1 eligible cluster is full (the largest "
        "free node left is mixed-01 (mixed) with 0 CPU and 124Gi free)"
    )


def test_fit_verdict_of_a_cluster_without_allowed_nodes_says_so() -> None:
    f = fleet([C("x", "s-x"), C("y", "s-y", nodes=(KUNPENG,))])
    p = place(f, [], workload(archs=("aarch64",), replicas=3))
    assert p.summary == "1/2 clusters: 1 no allowed node"
    assert verdict(p, "x").reason == "no allowed node"


# -- residency ---------------------------------------------------------------------------


RESIDENCY_FLEET = [
    C("gz", "s-gz"),
    C("prov", "s-prov"),
    C("sz", "s-sz"),
    C("ns", "s-ns"),
]
RESIDENCY_SITES = [
    S("s-gz", "440100"),
    S("s-prov", "440000"),
    S("s-sz", "440300"),
    S("s-ns", "440305"),
]


def test_residency_keeps_replicas_inside_the_division_subtree() -> None:
    f = fleet(RESIDENCY_FLEET, RESIDENCY_SITES)
    w = workload(owner="440300", residency="440300", replicas=4)
    with_ = place(f, policies("residency"), w)
    assert with_.placed == {"ns": 2, "sz": 2}
    assert_removed(with_, "gz", "residency")
    assert_removed(with_, "prov", "residency")
    assert with_.summary == "2/4 clusters: 2 outside the residency division"
    assert place(f, [], w).placed == {"gz": 1, "ns": 1, "prov": 1, "sz": 1}


def test_residency_does_not_bind_a_workload_without_one() -> None:
    f = fleet(RESIDENCY_FLEET, RESIDENCY_SITES)
    p = place(f, policies("residency"), workload(owner="440300", replicas=4))
    assert p.placed == {"gz": 1, "ns": 1, "prov": 1, "sz": 1}
    assert p.summary == ""


# -- level-reuse -------------------------------------------------------------------------


def test_level_reuse_allows_own_and_shared_ancestor_clusters_only() -> None:
    f = fleet(
        [
            C("own", "s-tianhe", shared=False),
            C("city-shared", "s-gz"),
            C("city-private", "s-gz", shared=False),
            C("prov-shared", "s-prov"),
            C("sibling", "s-nanshan"),
            C("other-city", "s-sz"),
        ],
        [
            S("s-tianhe", "440106"),
            S("s-gz", "440100"),
            S("s-prov", "440000"),
            S("s-nanshan", "440305"),
            S("s-sz", "440300"),
        ],
    )
    w = workload(owner="440106", replicas=6)
    with_ = place(f, policies("level-reuse"), w)
    assert with_.placed == {"city-shared": 2, "own": 2, "prov-shared": 2}
    for cluster in ("city-private", "sibling", "other-city"):
        assert_removed(with_, cluster, "level-reuse")
    assert with_.summary == "3/6 clusters: 3 not the owner's own or a shared ancestor cluster"
    without = place(f, [], w)
    assert set(without.placed) == {
        "own",
        "city-shared",
        "city-private",
        "prov-shared",
        "sibling",
        "other-city",
    }


# -- headroom ----------------------------------------------------------------------------


def test_headroom_keeps_a_cluster_at_80_percent_under_85() -> None:
    f = fleet([C("hot", "s-1", nodes=(N(cpu=100, memory=400, used_cpu=80),))])
    w = workload(cpu=1, memory=1, replicas=10)
    with_ = place(f, policies("headroom"), w)
    v = verdict(with_, "hot")
    assert (v.fit, v.cap, v.removed_by) == (20, 5, "")
    assert with_.placed == {"hot": 5}
    assert with_.pending == 5
    assert with_.reason == (
        "only 5 of 10 fit (1 CPU and 1.0Gi each): headroom holds 1 cluster below its room "
        "(would pass 85% of allocatable CPU or memory): e.g. hot has room for 20, limit 5.0 at "
        "80% of its CPU and 0% of its memory allocated"
    )
    assert place(f, [], w).placed == {"hot": 10}


def test_headroom_counts_memory_too() -> None:
    f = fleet([C("hot", "s-1", nodes=(N(cpu=100, memory=100, used_memory=80),))])
    p = place(f, policies("headroom"), workload(cpu=1, memory=2, replicas=10))
    assert p.placed == {"hot": 2}  # 84 GiB of 100; a third replica would make 86


def test_headroom_removes_a_cluster_already_above_the_line() -> None:
    f = fleet(
        [
            C("full", "s-1", nodes=(N(cpu=100, memory=400, used_cpu=90),)),
            C("small", "s-2", nodes=(N(cpu=2, memory=400),)),
        ]
    )
    w = workload(replicas=4)
    with_ = place(f, policies("headroom"), w)
    assert with_.placed == {"small": 1}  # 2 cores: the second replica would make 100 %
    assert with_.pending == 3
    assert_removed(with_, "full", "headroom")
    assert verdict(with_, "full").cap == 0
    assert with_.summary == "1/2 clusters: 1 would pass 85% of allocatable CPU or memory"
    assert place(f, [], w).placed == {"full": 2, "small": 2}


def test_headroom_sees_replicas_the_scheduler_placed_before() -> None:
    f = fleet([C("hot", "s-1", nodes=(N(cpu=100, memory=400, used_cpu=80),))])
    scheduler = Scheduler(f, policies("headroom"))
    first = scheduler.place(workload("first", replicas=3), explain=True)
    second = scheduler.place(workload("second", replicas=3), explain=True)
    assert first.placed == {"hot": 3}
    assert second.placed == {"hot": 2}
    third = scheduler.place(workload("third", replicas=1), explain=True)
    assert third.placed == {}
    assert_removed(third, "hot", "headroom")


# -- east-west ---------------------------------------------------------------------------


EAST_WEST = fleet(
    [C("cheap", "s-cheap"), C("mid", "s-mid"), C("dear", "s-dear")],
    [
        S("s-cheap", price=0.30, pue=1.2),  # 0.36
        S("s-mid", price=0.50, pue=1.3),  # 0.65
        S("s-dear", price=0.70, pue=1.4),  # 0.98
    ],
)


def test_east_west_moves_batch_work_to_cheaper_energy() -> None:
    w = workload(data_class=DataClass.BATCH, replicas=6)
    with_ = place(EAST_WEST, policies("east-west"), w)
    terms = {c: verdict(with_, c).terms["east-west"] for c in ("cheap", "mid", "dear")}
    assert terms["cheap"] == pytest.approx(200)
    assert terms["dear"] == pytest.approx(0)
    assert terms["mid"] == pytest.approx((0.98 - 0.65) / (0.98 - 0.36) * 200)
    assert with_.placed["cheap"] > with_.placed["mid"] > with_.placed["dear"]
    assert sum(with_.placed.values()) == 6
    assert place(EAST_WEST, [], w).placed == {"cheap": 2, "dear": 2, "mid": 2}


@pytest.mark.parametrize("data_class", [DataClass.OFFLINE, DataClass.BACKUP])
def test_east_west_binds_offline_and_backup_too(data_class: DataClass) -> None:
    p = place(EAST_WEST, policies("east-west"), workload(data_class=data_class, replicas=6))
    assert verdict(p, "cheap").terms["east-west"] == pytest.approx(200)


@pytest.mark.parametrize("data_class", [DataClass.INTERACTIVE, DataClass.REALTIME])
def test_east_west_leaves_latency_sensitive_work_alone(data_class: DataClass) -> None:
    p = place(EAST_WEST, policies("east-west"), workload(data_class=data_class, replicas=6))
    assert p.verdicts is not None
    assert all("east-west" not in v.terms for v in p.verdicts)
    assert p.placed == {"cheap": 2, "dear": 2, "mid": 2}


# -- spread ------------------------------------------------------------------------------


SPREAD_FLEET = fleet(
    [C("a1", "s-a"), C("a2", "s-a"), C("b1", "s-b", mlps=2)],
)


def test_spread_leaves_everything_pending_when_too_few_sites_are_eligible() -> None:
    p = place(SPREAD_FLEET, policies("mlps", "spread"), workload(mlps=3, min_sites=2, replicas=4))
    assert p.placed == {}
    assert p.pending == 4
    assert p.summary == "2/3 clusters: 1 MLPS level below the workload's"
    assert p.reason == (
        "spread: needs 2 sites, 1 eligible (s-a); 2/3 clusters: 1 MLPS level below the workload's"
    )


def test_spread_covers_the_sites_when_it_can() -> None:
    p = place(SPREAD_FLEET, policies("spread"), workload(mlps=1, min_sites=2, replicas=2))
    assert p.placed_total == 2
    assert {SPREAD_FLEET.clusters[c].site for c in p.placed} == {"s-a", "s-b"}


def test_a_spread_policy_can_ask_for_more_sites_than_the_workload() -> None:
    realtime_two = PlacementPolicy(
        "two-sites",
        PolicyForm.SPREAD,
        "2",
        match='workload.dataClass == "realtime"',
    )
    w = workload(mlps=3, replicas=4, data_class=DataClass.REALTIME)
    with_ = place(SPREAD_FLEET, [*policies("mlps"), realtime_two], w)
    assert with_.placed == {}
    assert with_.reason.startswith("spread: needs 2 sites, 1 eligible (s-a)")
    assert place(SPREAD_FLEET, policies("mlps"), w).placed == {"a1": 2, "a2": 2}


def test_the_default_spread_policy_is_what_enforces_min_sites() -> None:
    w = workload(mlps=3, min_sites=2, replicas=4)
    with_ = place(SPREAD_FLEET, policies("mlps", "spread"), w)
    without = place(SPREAD_FLEET, policies("mlps"), w)
    assert with_.placed == {}
    assert without.placed != with_.placed
