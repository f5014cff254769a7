"""The store's own thread for the hub's changes: writes leave the event loop, run one at a time
in the order asked, and a store that does not answer in time is StoreUnavailable."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

_T = TypeVar("_T")

STORE_SECONDS = 10.0
"""How long a change waits for the store before answering UNAVAILABLE."""


class StoreUnavailable(RuntimeError):
    """The store did not take a change (a full or failing disk); nothing was changed."""


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
            raise StoreUnavailable(f"the store did not answer within {seconds:g} s") from None
        except Exception as err:  # the store's own errors: sqlite3, psycopg, OSError
            raise StoreUnavailable(f"the store did not take the change ({err})") from err

    async def close(self) -> None:
        """Waits (off the event loop) for what is queued, then ends the thread."""
        await asyncio.to_thread(self._thread.shutdown)
