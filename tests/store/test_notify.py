"""The store's change notifications reach a listener, and keep reaching it after a lost session."""

from __future__ import annotations

import asyncio

import psycopg

from console.model.inventory import Event
from console.store.notify import listen
from console.store.postgres import PostgresStore
from tests.pgserver import PostgresServer


async def test_listener_hears_changes_and_comes_back(pg_server: PostgresServer) -> None:
    url = pg_server.url(pg_server.create_database())
    store = PostgresStore(url, password=pg_server.password)
    heard: list[str] = []
    got = asyncio.Event()

    def note(payload: str) -> None:
        heard.append(payload)
        got.set()

    stop = asyncio.Event()
    task = asyncio.create_task(listen(store.conninfo, note, stop, retry=0.1), name="listener")
    try:
        for _ in range(100):  # until LISTEN is in place
            await asyncio.to_thread(store.write_batch, [], [Event(1.0, "ready", "a", "m")])
            try:
                await asyncio.wait_for(got.wait(), 0.2)
                break
            except TimeoutError:
                continue
        assert heard and heard[0] == "events"
        with psycopg.connect(store.conninfo, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE query LIKE 'LISTEN%%' AND pid <> pg_backend_pid()"
            )
        while "reconnected" not in heard:
            got.clear()
            await asyncio.wait_for(got.wait(), 10)
        heard.clear()
        got.clear()
        await asyncio.to_thread(store.write_batch, [], [Event(2.0, "lost", "b", "m")])
        await asyncio.wait_for(got.wait(), 10)
        assert heard == ["events"]
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        store.close()
