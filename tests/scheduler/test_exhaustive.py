"""D'Hondt against brute force: the division maximises Σ score·H(n) within the caps."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.scheduler import Scheduler, divide
from console.scheduler.divide import Candidate

from .oracle import exhaustive, objective
from .strategies import Scenario, scenarios

SETTINGS = settings(
    max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def assert_matches_search(
    replicas: int,
    placed: Mapping[str, int],
    scores: dict[str, float],
    caps: dict[str, int],
    floors: dict[str, int] | None = None,
) -> None:
    search = exhaustive(replicas, scores, caps, floors)
    assert sum(placed.values()) == min(replicas, sum(caps.values()))
    assert all(placed[c] <= caps[c] for c in placed)
    assert objective(placed, scores) == pytest.approx(search.best, rel=1e-12, abs=1e-12)
    if len(search.optima) == 1:
        assert placed == search.optima[0]
    assert placed == search.chosen, (scores, caps, search.optima)


@SETTINGS
@given(scenarios(max_clusters=4, max_workloads=3, max_replicas=6, min_sites=1))
def test_place_divides_like_an_exhaustive_search(scenario: Scenario) -> None:
    scheduler = Scheduler(scenario.fleet, scenario.policies)
    for w in scenario.workloads:
        placement = scheduler.place(w, explain=True)
        assert placement.verdicts is not None
        candidates = [v for v in placement.verdicts if v.removed_by == ""]
        assert len(candidates) <= 4
        for v in placement.verdicts:
            assert v.replicas == placement.placed.get(v.cluster, 0)
        if not candidates:
            assert placement.placed == {}
            continue
        scores = {v.cluster: v.score for v in candidates}
        caps = {v.cluster: v.cap for v in candidates}
        assert all(s > 0 for s in scores.values())
        assert all(c > 0 for c in caps.values())
        assert_matches_search(w.replicas, placement.placed, scores, caps)


NAMES = ["a", "b", "c", "d", "e"]
SCORES = st.one_of(
    st.floats(1, 300, allow_nan=False, allow_infinity=False),
    st.integers(1, 4).map(float),  # few values: many ties between clusters
)


@st.composite
def candidates(draw: st.DrawFn, sites: int = 3) -> list[Candidate]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=5, unique=True))
    return [
        Candidate(
            name,
            f"s{draw(st.integers(0, sites - 1))}",
            draw(SCORES),
            draw(st.integers(0, 6)),
        )
        for name in names
    ]


@SETTINGS
@given(st.integers(0, 10), candidates())
def test_divide_equals_exhaustive_search(replicas: int, given_: list[Candidate]) -> None:
    division = divide(replicas, given_, 1)
    assert division.spread_short == 0
    live = [c for c in given_ if c.cap > 0]
    if not live or replicas <= 0:
        assert division.replicas == {}
        return
    scores = {c.name: c.score for c in live}
    caps = {c.name: c.cap for c in live}
    assert_matches_search(replicas, division.replicas, scores, caps)


@SETTINGS
@given(st.integers(0, 10), candidates(), st.integers(2, 4))
def test_divide_with_spread_seeds_the_best_sites_then_divides_optimally(
    replicas: int, given_: list[Candidate], min_sites: int
) -> None:
    division = divide(replicas, given_, min_sites)
    live = [c for c in given_ if c.cap > 0]
    if not live or replicas <= 0:
        assert division.replicas == {}
        return
    ranked = sorted(live, key=lambda c: (-c.score, c.name))
    best: dict[str, Candidate] = {}
    for c in ranked:
        best.setdefault(c.site, c)
    if len(best) < min_sites or replicas < min_sites:
        assert division.replicas == {}
        assert division.spread_short == min_sites - min(len(best), replicas) > 0
        assert set(division.spread_sites) == set(best)
        return
    assert division.spread_short == 0
    sites = {c.name: c.site for c in live}
    assert len({sites[c] for c in division.replicas}) >= min_sites
    floors = {c.name: 1 for c in list(best.values())[:min_sites]}
    scores = {c.name: c.score for c in live}
    caps = {c.name: c.cap for c in live}
    assert_matches_search(replicas, division.replicas, scores, caps, floors)


@pytest.mark.parametrize(
    ("replicas", "scores", "caps", "expected"),
    [
        # Shares in proportion to score: 3:1 → 6 and 2 of 8.
        (8, {"a": 300.0, "b": 100.0}, {"a": 99, "b": 99}, {"a": 6, "b": 2}),
        # Equal worth goes to the name that sorts first.
        (3, {"b": 100.0, "a": 100.0}, {"a": 9, "b": 9}, {"a": 2, "b": 1}),
        # A capped cluster's share goes to the next best.
        (
            5,
            {"a": 300.0, "b": 100.0, "c": 50.0},
            {"a": 2, "b": 9, "c": 9},
            {"a": 2, "b": 2, "c": 1},
        ),
        # More replicas than room: every cap is filled.
        (9, {"a": 1.0, "b": 2.0}, {"a": 1, "b": 2}, {"a": 1, "b": 2}),
    ],
)
def test_divide_examples(
    replicas: int, scores: dict[str, float], caps: dict[str, int], expected: dict[str, int]
) -> None:
    given_ = [Candidate(n, f"site-{n}", s, caps[n]) for n, s in scores.items()]
    assert divide(replicas, given_).replicas == expected
