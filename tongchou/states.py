"""Node liveness states between their names ("stale", as `console.model.NodeState` spells them)
and the wire enum (NODE_STATE_STALE): the one translation, used by the hub and the console."""

from __future__ import annotations

from tongchou.v1 import common_pb2

NAMES = ("ready", "stale", "lost")
"""Every state's name, healthiest first."""

_TO_WIRE: dict[str, common_pb2.NodeState.ValueType] = {
    "ready": common_pb2.NODE_STATE_READY,
    "stale": common_pb2.NODE_STATE_STALE,
    "lost": common_pb2.NODE_STATE_LOST,
}
_FROM_WIRE: dict[int, str] = {int(wire): state for state, wire in _TO_WIRE.items()}


def to_wire(state: str) -> common_pb2.NodeState.ValueType:
    """The wire enum of a state's name; NODE_STATE_UNSPECIFIED for an unknown or empty name."""
    return _TO_WIRE.get(state, common_pb2.NODE_STATE_UNSPECIFIED)


def name(value: int) -> str:
    """The state's name ("stale") for a wire value; "" when unspecified or unknown."""
    return _FROM_WIRE.get(value, "")
