"""One cluster's API calls: `qps` a second on average, `burst` at once (a token bucket that
waits for its turn)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from tongchou.ratelimit import TokenBucket


class RateLimiter:
    """Thread-safe; `acquire()` blocks until a call may go. The clock and the sleep are
    parameters so tests can drive them."""

    def __init__(
        self,
        qps: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if qps <= 0 or burst < 1:
            raise ValueError(f"rate limit needs qps > 0 and burst >= 1, got {qps}, {burst}")
        self.qps = qps
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._bucket = TokenBucket(qps, burst)  # full at the first call
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Takes one token, waiting for it if needed; returns the seconds waited."""
        with self._lock:
            wait = self._bucket.reserve(self._clock())
        if wait > 0:
            self._sleep(wait)
        return wait
