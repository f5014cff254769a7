"""One helper for the hub's periodic work: run, wait, repeat, until the stop flag is set."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import Callable


async def pause(stop: asyncio.Event, seconds: float) -> bool:
    """Waits `seconds`, or less when `stop` is set meanwhile; returns whether it is set."""
    if not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, seconds))
    return stop.is_set()


async def every(
    stop: asyncio.Event,
    seconds: float,
    work: Callable[[], object],
    *,
    wait_first: bool = False,
    steady: bool = False,
) -> None:
    """Calls `work` (a function or a coroutine function) every `seconds` until `stop` is set.

    With `wait_first` the first call comes after one period; with `steady` the period counts
    from the start of each call (a slow call shortens the wait after it), else from its end.
    """
    if wait_first and await pause(stop, seconds):
        return
    while not stop.is_set():
        started = time.monotonic()
        result = work()
        if inspect.isawaitable(result):
            await result
        wait = seconds - (time.monotonic() - started) if steady else seconds
        if await pause(stop, wait):
            return
