"""Durations as operators write them: 10, 2.5, "10s", "500ms", "1m", "1h"."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


class DurationError(ValueError):
    """Text that is not a duration, or one out of range; the message names `where`."""


def parse_duration(value: object, where: str, *, low: float = 0.05, high: float = 86_400) -> float:
    """Seconds, between `low` and `high`."""
    if isinstance(value, bool):
        raise DurationError(f"{where}: expected a duration such as 10s, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if match is None:
            raise DurationError(f"{where}: expected a duration such as 10s or 1m, got {value!r}")
        number, unit = match.groups()
        seconds = float(number) * _UNITS[unit]
    if not low <= seconds <= high:
        raise DurationError(f"{where}: duration {value!r} must lie between {low:g}s and {high:g}s")
    return seconds
