"""The one token bucket: at most `rate` events a second on average, bursts up to `burst`.

The caller passes the time, so the bucket is plain state: the hub's ingest asks `take`
(refuse what is over the limit), the executor asks `reserve` (wait for its turn)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class TokenBucket:
    rate: float
    burst: float
    tokens: float = 0.0
    last: float = 0.0
    started: bool = False  # full at the first call

    def _refill(self, now: float) -> None:
        if not self.started:
            self.tokens, self.last, self.started = self.burst, now, True
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now

    def take(self, now: float) -> bool:
        """True, and one token spent, when the event is within the limit."""
        self._refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def due(self, now: float) -> float:
        """Seconds until a token is there (0 when one is), none spent."""
        self._refill(now)
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def reserve(self, now: float) -> float:
        """Spends one token, owing it if there is none; returns the seconds until it is due."""
        self._refill(now)
        self.tokens -= 1.0
        return -self.tokens / self.rate if self.tokens < 0 else 0.0
