"""Make-before-break move-back as plain state: the cap, the surge, the end of a move."""

from __future__ import annotations

import pytest

from console.executor.moveback import MoveBacks


def test_at_most_cap_workloads_move_at_once_in_order() -> None:
    moves = MoveBacks(cap=2)
    moves.enqueue(["c", "a", "b"])
    assert moves.due() == ["a", "b"]
    assert moves.begin("a", {"gz-a": 6}, {"gz-a": 3, "sz-b": 3})
    assert moves.begin("b", {"gz-a": 2}, {"sz-b": 2})
    assert moves.due() == []  # two under way
    ready = {("sz-b", "a"): 3, ("sz-b", "b"): 1}
    placed = {"a": {"gz-a": 3, "sz-b": 3}, "b": {"sz-b": 2}}
    assert moves.finish(placed.get, lambda c, n: ready.get((c, n))) == ["a"]
    assert moves.due() == ["c"]
    assert moves.moves == {"b": {"gz-a": 2}}


def test_old_replicas_stay_until_the_new_ones_are_ready() -> None:
    moves = MoveBacks(cap=1)
    assert moves.begin("seal", {"gz-a": 6}, {"gz-a": 3, "sz-b": 3})
    assert moves.applied("seal", {"gz-a": 3, "sz-b": 3}) == {"gz-a": 6, "sz-b": 3}
    placed = {"seal": {"gz-a": 3, "sz-b": 3}}
    assert moves.finish(placed.get, lambda c, n: 2 if c == "sz-b" else None) == []
    assert moves.finish(placed.get, lambda c, n: 3 if c == "sz-b" else None) == ["seal"]
    assert moves.applied("seal", {"gz-a": 3, "sz-b": 3}) == {"gz-a": 3, "sz-b": 3}


def test_a_deleted_workload_ends_its_move_and_no_change_is_no_move() -> None:
    moves = MoveBacks()
    assert not moves.begin("same", {"gz-a": 2}, {"gz-a": 2})
    assert moves.begin("gone", {"gz-a": 2}, {"sz-b": 2})
    assert moves.finish(lambda _n: None, lambda _c, _n: None) == ["gone"]
    with pytest.raises(ValueError, match="at least 1"):
        MoveBacks(cap=0)
