"""Government levels between their names ("county") and the wire enum (LEVEL_COUNTY)."""

from __future__ import annotations

from tongchou.divisions import Level
from tongchou.v1 import common_pb2

_TO_WIRE: dict[Level, common_pb2.Level.ValueType] = {
    Level.NATIONAL: common_pb2.LEVEL_NATIONAL,
    Level.PROVINCE: common_pb2.LEVEL_PROVINCE,
    Level.CITY: common_pb2.LEVEL_CITY,
    Level.COUNTY: common_pb2.LEVEL_COUNTY,
    Level.TOWNSHIP: common_pb2.LEVEL_TOWNSHIP,
}
_FROM_WIRE: dict[int, Level] = {int(wire): level for level, wire in _TO_WIRE.items()}


def to_wire(level: Level | str) -> common_pb2.Level.ValueType:
    """The wire enum of a level or level name; LEVEL_UNSPECIFIED for an unknown or empty name."""
    try:
        return _TO_WIRE[Level(level)]
    except ValueError:
        return common_pb2.LEVEL_UNSPECIFIED


def from_wire(value: int) -> Level | None:
    """The level a wire enum value names, or None (unspecified or unknown)."""
    return _FROM_WIRE.get(value)


def name(value: int) -> str:
    """The level's name ("county") for a wire value; "" when unspecified or unknown."""
    level = from_wire(value)
    return level.value if level is not None else ""
