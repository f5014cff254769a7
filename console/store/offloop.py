"""Store calls off the event loop, with a time bound: a store that fails or does not answer in
time is StoreUnavailable (a full or frozen disk), never a wait on the loop. `StoreWriter` is a
thread of its own for changes that must land in the order they were asked."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")

STORE_SECONDS = 10.0
"""How long a change waits for the store before answering UNAVAILABLE."""


class StoreUnavailable(RuntimeError):
    """The store failed (a full or failing disk: nothing was changed) or did not answer in
    time (`timed_out`: a change under way may still land)."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


async def off_loop(
    call: Callable[..., _R],
    *args: Any,
    seconds: float = STORE_SECONDS,
    passing: tuple[type[Exception], ...] = (),
    **kwargs: Any,
) -> _R:
    """`call(*args, **kwargs)` on a worker thread, within `seconds`. The store's own errors
    (sqlite3, psycopg, OSError) and a timeout are StoreUnavailable; the `passing` errors (the
    store's answers about the request, such as an unknown name) are raised as they are."""
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(functools.partial(call, *args, **kwargs)), seconds
        )
    except TimeoutError:
        raise StoreUnavailable(
            f"the store did not answer within {seconds:g} s", timed_out=True
        ) from None
    except passing:
        raise
    except Exception as err:
        raise StoreUnavailable(f"the store did not take the change ({err})") from err


class StoreWriter:
    """One worker thread for writes. Writes run in the order asked, so a later change never
    lands before an earlier one; one still queued when its time is up is dropped, and should
    one under way land later, memory lags the store, never leads it (a retry of the same
    change is harmless)."""

    def __init__(self, name: str) -> None:
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=name)

    async def write(self, write: Callable[[_T], object], value: _T, seconds: float) -> None:
        """`write(value)` on the thread, within `seconds`; StoreUnavailable says why not."""
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(self._thread, write, value), seconds)
        except TimeoutError:
            raise StoreUnavailable(
                f"the store did not answer within {seconds:g} s", timed_out=True
            ) from None
        except Exception as err:  # the store's own errors: sqlite3, psycopg, OSError
            raise StoreUnavailable(f"the store did not take the change ({err})") from err

    async def close(self) -> None:
        """Waits (off the event loop) for what is queued, then ends the thread."""
        await asyncio.to_thread(self._thread.shutdown)
