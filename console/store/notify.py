"""LISTEN for the store's change notifications on an async connection, reconnecting as needed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import psycopg

from console.store.postgres import CHANGES_CHANNEL

log = logging.getLogger("tongchou.hub.store")


async def listen(
    conninfo: str,
    on_change: Callable[[str], None],
    stop: asyncio.Event,
    *,
    retry: float = 1.0,
) -> None:
    """Calls `on_change(payload)` for every notification until `stop` is set. After a lost
    connection it calls `on_change("reconnected")` (changes may have been missed meanwhile)."""
    first = True
    while not stop.is_set():
        try:
            conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
        except (psycopg.Error, OSError) as err:
            log.warning("cannot listen for store changes: %s", str(err).strip() or err)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), retry)
            continue
        try:
            await conn.execute(f"LISTEN {CHANGES_CHANNEL}")
            if not first:
                on_change("reconnected")
            first = False
            await _relay(conn, on_change, stop)
        except (psycopg.Error, OSError) as err:
            log.warning("store notifications lost: %s; listening again", str(err).strip() or err)
        finally:
            with contextlib.suppress(psycopg.Error, OSError):
                await conn.close()


async def _relay(
    conn: psycopg.AsyncConnection[tuple[object, ...]],
    on_change: Callable[[str], None],
    stop: asyncio.Event,
) -> None:
    stopping = asyncio.create_task(stop.wait(), name="store-listen-stop")
    try:
        notes = conn.notifies()
        while not stop.is_set():
            nxt = asyncio.ensure_future(anext(notes))
            done, _ = await asyncio.wait({nxt, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if nxt not in done:
                nxt.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await nxt
                return
            on_change(nxt.result().payload)
    finally:
        stopping.cancel()
