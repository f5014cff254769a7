"""Properties of the scheduler on random small fleets, checked against an independent model."""

from __future__ import annotations

import random
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.model.workload import PolicyForm, Workload
from console.scheduler import Placement, Scheduler

from .builders import C, fleet, policies, workload
from .oracle import FleetModel, active_defaults
from .strategies import Scenario, scenarios, shuffled

SETTINGS = settings(
    max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@dataclass(frozen=True, slots=True)
class Step:
    """One workload placed, with what the model said before and after."""

    workload: Workload
    placement: Placement
    fit: dict[str, int]  # model fit before the placement
    rejected: dict[str, list[str]]  # require policies that reject each cluster
    caps: dict[str, int]  # eligible clusters and their caps
    sites: dict[str, str]  # cluster → site
    headroom: bool  # headroom policy active
    within_after: dict[str, bool]  # placed cluster → ≤ 85 % after the placement
    fresh: Placement | None  # the same workload on a new scheduler over today's fleet


def simulate(scenario: Scenario, *, fresh: bool = False) -> list[Step]:
    scheduler = Scheduler(scenario.fleet, scenario.policies)
    model = FleetModel(scenario.fleet)
    names = set(scenario.defaults)
    sites = {c.name: c.site for c in scenario.fleet.clusters.values()}
    steps = []
    for w in scenario.workloads:
        defaults = active_defaults(names, w)
        fit = {c: model.fit(c, w) for c in scenario.fleet.clusters}
        rejected = {
            c: model.requires(c, w, defaults, scenario.extras) for c in scenario.fleet.clusters
        }
        caps = model.caps(w, defaults, scenario.extras)
        again = (
            Scheduler(model.to_fleet(), scenario.policies).place(w, explain=True) if fresh else None
        )
        placement = scheduler.place(w, explain=fresh)
        for cluster, n in sorted(placement.placed.items()):
            assert n <= fit[cluster], (cluster, n, fit[cluster])
            model.commit(cluster, n, w)
        within = {c: model.within_headroom(c) for c in placement.placed}
        steps.append(
            Step(w, placement, fit, rejected, caps, sites, "headroom" in defaults, within, again)
        )
    return steps


@SETTINGS
@given(scenarios())
def test_no_replica_where_a_require_policy_is_false(scenario: Scenario) -> None:
    for step in simulate(scenario):
        for cluster in step.placement.placed:
            assert not step.rejected[cluster], (step.workload, cluster, step.rejected[cluster])


@SETTINGS
@given(scenarios())
def test_no_cluster_gets_more_than_fit_or_headroom(scenario: Scenario) -> None:
    for step in simulate(scenario):
        for cluster, n in step.placement.placed.items():
            assert 0 < n <= step.fit[cluster]
            assert n <= step.caps.get(cluster, 0), (cluster, n, step.caps)
            if step.headroom:
                assert step.within_after[cluster], (step.workload, cluster, n)


@SETTINGS
@given(scenarios())
def test_placed_plus_pending_is_replicas(scenario: Scenario) -> None:
    for step in simulate(scenario):
        p = step.placement
        assert p.placed_total + p.pending == step.workload.replicas
        assert p.pending >= 0
        assert p.replicas == step.workload.replicas
        assert all(n > 0 for n in p.placed.values())
        if p.pending:
            assert p.reason, p
        else:
            assert p.reason == "", p


@SETTINGS
@given(scenarios())
def test_spread_covers_min_sites_and_is_met_when_it_can_be(scenario: Scenario) -> None:
    spread = any(p.form is PolicyForm.SPREAD for p in scenario.policies)
    for step in simulate(scenario):
        w, p = step.workload, step.placement
        k = max(1, w.min_sites) if spread else 1
        covered = {step.sites[c] for c in p.placed}
        if p.placed_total:
            assert len(covered) >= min(k, p.placed_total), (w, p.placed)
        eligible_sites = {step.sites[c] for c in step.caps}
        room = sum(step.caps.values())
        if len(eligible_sites) >= k and w.replicas >= k:
            assert p.placed_total == min(w.replicas, room), (w, step.caps, p)
        elif w.replicas and step.caps:
            assert p.placed_total == 0, (w, step.caps, p)
            assert p.reason.startswith("spread: "), p.reason
        else:
            assert p.placed_total == 0


@SETTINGS
@given(scenarios(), st.randoms(use_true_random=False))
def test_same_inputs_in_another_dict_order_place_the_same(
    scenario: Scenario, rng: random.Random
) -> None:
    first = Scheduler(scenario.fleet, scenario.policies)
    second = Scheduler(shuffled(scenario.fleet, rng), scenario.policies)
    for w in scenario.workloads:
        a = first.place(w, explain=True)
        b = second.place(w, explain=True)
        assert a.to_dict() == b.to_dict()


@SETTINGS
@given(scenarios())
def test_cached_results_equal_a_fresh_scheduler_on_todays_fleet(scenario: Scenario) -> None:
    """Policy results cached across workloads are refreshed where replicas landed."""
    for step in simulate(scenario, fresh=True):
        assert step.fresh is not None
        assert step.placement.to_dict() == step.fresh.to_dict()


def test_verdict_of_a_removed_cluster_does_not_depend_on_earlier_workloads() -> None:
    f = fleet([C("prov", "s-prov", shared=False)])
    chosen = policies("level-reuse", "headroom")
    used = Scheduler(f, chosen)
    used.place(workload("first", owner="440000", replicas=0))  # changes nothing
    later = workload("second", owner="440100", replicas=2)
    after = used.place(later, explain=True)
    fresh = Scheduler(f, chosen).place(later, explain=True)
    assert after.verdicts is not None
    assert after.verdicts[0].removed_by == "level-reuse"
    assert after.to_dict() == fresh.to_dict()
