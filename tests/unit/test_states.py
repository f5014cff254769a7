"""Node states: one translation between the model's names and the wire enum."""

from __future__ import annotations

from pathlib import Path

from console.model.inventory import NodeState
from tongchou import states
from tongchou.v1 import common_pb2

ROOT = Path(__file__).resolve().parents[2]


def test_every_model_state_has_a_wire_value_and_back() -> None:
    assert tuple(state.value for state in NodeState) == states.NAMES
    for state in NodeState:
        wire = states.to_wire(state)
        assert wire != common_pb2.NODE_STATE_UNSPECIFIED
        assert NodeState(states.name(wire)) is state


def test_every_wire_state_but_unspecified_has_a_name() -> None:
    named = {wire: states.name(wire) for wire in common_pb2.NodeState.values()}
    assert named.pop(common_pb2.NODE_STATE_UNSPECIFIED) == ""
    assert sorted(named.values()) == sorted(states.NAMES)


def test_unknown_values_and_names() -> None:
    assert states.name(99) == ""
    assert states.to_wire("gone") == common_pb2.NODE_STATE_UNSPECIFIED
    assert states.to_wire("") == common_pb2.NODE_STATE_UNSPECIFIED


def test_no_other_module_translates_node_states() -> None:
    places = sorted(
        str(path.relative_to(ROOT))
        for top in ("tongchou", "agent", "console")
        for path in (ROOT / top).rglob("*.py")
        if "v1" not in path.relative_to(ROOT).parts
        and any(
            f"NODE_STATE_{name.upper()}" in path.read_text(encoding="utf-8")
            for name in states.NAMES
        )
    )
    assert places == ["tongchou/states.py"]
