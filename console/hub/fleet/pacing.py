"""The report interval the hub asks of agents, and the fleet's report rate."""

from __future__ import annotations

from collections import deque


class Pacer:
    """The report interval to ask of agents: stretched so the whole fleet stays under a rate."""

    def __init__(self, base: float, max_rate: float) -> None:
        self.base = base
        self.max_rate = max_rate
        self.interval = base
        self._seconds: deque[tuple[int, int]] = deque(maxlen=61)
        self._started = 0

    def adjust(self, live_nodes: int) -> float:
        """Like Nomad's heartbeat scaling: interval = max(base, nodes / max rate)."""
        wanted = max(self.base, live_nodes / self.max_rate if self.max_rate > 0 else 0.0)
        wanted = round(wanted, 1)
        self.interval = wanted
        return wanted

    def count(self, now: float, reports: int = 1) -> None:
        second = int(now)
        if not self._started:
            self._started = second
        if self._seconds and self._seconds[-1][0] == second:
            self._seconds[-1] = (second, self._seconds[-1][1] + reports)
        else:
            self._seconds.append((second, reports))

    def rate(self, now: float) -> float:
        """Reports per second over the last full minute (or since the first report, if sooner)."""
        newest = int(now) - 1
        window = [(s, n) for s, n in self._seconds if newest - 60 < s <= newest]
        if not window:
            return 0.0
        span = min(60, newest - self._started + 1) if self._started else 60
        return sum(n for _s, n in window) / max(1, span)
