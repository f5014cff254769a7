"""Waiting for a condition to hold, without fixed sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T | None]], timeout: float = 20.0, what: str = "condition"
) -> T:
    """Calls `probe` until it returns something other than None (errors count as None)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = await probe()
        except Exception as err:  # the hub may not be up yet
            last = err
            value = None
        if value is not None:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} (last error: {last})")
