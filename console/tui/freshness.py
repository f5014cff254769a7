"""How fresh the console's data is: live, paused, or so many seconds old, in words."""

from __future__ import annotations

from dataclasses import dataclass

from console.tui.i18n import text

LIVE_WITHIN = 10.0
"""Seconds since the last update within which the data counts as live (reports arrive
every few seconds; the watch stream batches them)."""


@dataclass(slots=True)
class Freshness:
    """The last time data arrived, whether the hub is reachable, and whether the operator
    paused the screen. `now` comes from the caller (tests pass their own clock)."""

    last: float | None = None
    connected: bool = False
    paused: bool = False

    def stale(self, now: float) -> bool:
        """Whether what is on screen may no longer be true: the hub is away or silent."""
        return self.last is not None and (not self.connected or now - self.last > LIVE_WITHIN)

    def words(self, lang: str, now: float) -> str:
        """`paused` / `data 42s old` / "" (live)."""
        parts = []
        if self.paused:
            parts.append(text(lang, "paused"))
        if self.stale(now) and self.last is not None:
            parts.append(text(lang, "data_age", seconds=now - self.last))
        return " · ".join(parts)
