"""Replicas per cluster: one read-only value from the scheduler to the store and the wire."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from console.model.replicas import Replicas

ROOT = Path(__file__).resolve().parents[2]
PLAIN = ("dict[str, int]", "dict[str, dict")


def test_counts_are_kept_in_order_without_empty_clusters() -> None:
    placed = Replicas({"sz-a": 2, "gz-a": 0, "gz-b": 1})
    assert list(placed.items()) == [("sz-a", 2), ("gz-b", 1)]
    assert placed == {"sz-a": 2, "gz-b": 1} and placed.total == 3 and len(placed) == 2
    assert Replicas() == {} and not Replicas() and Replicas().total == 0
    with pytest.raises(ValueError, match="replicas in cluster gz-a: -1 is below 0"):
        Replicas({"gz-a": -1})


def test_it_cannot_be_changed_in_place() -> None:
    placed = Replicas({"gz-a": 1})
    with pytest.raises(TypeError):
        placed["gz-a"] = 2  # type: ignore[index]
    assert placed.plus({"gz-a": 2, "sz-a": 1}) == {"gz-a": 3, "sz-a": 1}
    assert placed.at_least({"gz-a": 0, "sz-a": 4}) == {"gz-a": 1, "sz-a": 4}
    assert placed == {"gz-a": 1}
    assert hash(placed) == hash(Replicas({"gz-a": 1}))


def test_the_stores_form_round_trips_and_refuses_other_json() -> None:
    placed = Replicas({"sz-a": 2, "gz-a": 1})
    assert placed.to_json() == '{"gz-a": 1, "sz-a": 2}'
    assert Replicas.from_json(placed.to_json()) == placed
    assert Replicas.from_json("") == Replicas.from_json(None) == {}
    for bad in ("[1]", '{"gz-a": "2"}', '{"gz-a": true}'):
        with pytest.raises(ValueError, match="not replicas per cluster"):
            Replicas.from_json(bad)
    assert repr(placed) == "{'sz-a': 2, 'gz-a': 1}"  # events quote it as the dict it stands for


def test_no_placement_is_kept_as_a_plain_dict_of_cluster_counts() -> None:
    """Fields and parameters named `placed` in the scheduler, store, hub and executor's
    move-backs are `Replicas` (the executor's manifests take any mapping)."""
    plain = []
    for top in ("console/scheduler", "console/store", "console/hub", "console/executor"):
        for path in sorted((ROOT / top).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                    name, note = node.target.id, node.annotation
                elif isinstance(node, ast.arg) and node.annotation is not None:
                    name, note = node.arg, node.annotation
                else:
                    continue
                if name in ("placed", "moves") and ast.unparse(note).startswith(PLAIN):
                    plain.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert plain == []
