"""Leader election among hub replicas through PostgreSQL: a session advisory lock plus a term.

Exactly one replica holds the lock, on a connection of its own; PostgreSQL releases it the moment
that session ends (the process died, or its TCP keepalives failed). Winning the lock increments
`hub_leader.term`; writes only a leader may make check that term in their transaction (fencing),
so a leader that lost its seat without noticing cannot overwrite its successor's work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

log = logging.getLogger("tongchou.hub.leader")

LEADER_LOCK = 0x746F6E67_6C656164  # "tonglead"


class FencedError(RuntimeError):
    """A leader-only write was refused: another replica leads now."""


@dataclass(frozen=True, slots=True)
class Seat:
    """What a replica knows of its standing: leading or not, and the term it leads in."""

    leading: bool
    term: int
    since: float  # time.monotonic() of the change


class LeaderElection:
    """One replica's place in the election. `run()` keeps trying for the lock every `retry`
    seconds, and while leading checks every `retry` seconds that its session is alive (an
    answer within `check_timeout`, or it steps down at once)."""

    def __init__(
        self,
        conninfo: str,
        holder: str,
        *,
        retry: float = 1.0,
        check_timeout: float = 2.0,
        on_change: Callable[[Seat], None] | None = None,
    ) -> None:
        self.conninfo = conninfo
        self.holder = holder
        self.retry = retry
        self.check_timeout = check_timeout
        self.on_change = on_change
        self.seat = Seat(False, 0, time.monotonic())
        self._conn: psycopg.AsyncConnection[tuple[object, ...]] | None = None

    @property
    def leading(self) -> bool:
        return self.seat.leading

    def _set(self, leading: bool, term: int) -> None:
        if leading == self.seat.leading and term == self.seat.term:
            return
        self.seat = Seat(leading, term, time.monotonic())
        if leading:
            log.info("%s leads (term %d)", self.holder, term)
        else:
            log.warning("%s no longer leads (term %d)", self.holder, term)
        if self.on_change is not None:
            self.on_change(self.seat)

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    await asyncio.wait_for(self._step(), self.check_timeout + 5.0)
                except (psycopg.Error, OSError, TimeoutError) as err:
                    log.warning("leader election: %s; reconnecting", str(err).strip() or err)
                    self._set(False, self.seat.term)
                    await self._drop()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.retry)
        finally:
            self._set(False, self.seat.term)
            await self._drop()  # closing the session releases the lock at once

    async def _step(self) -> None:
        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        conn = self._conn
        if self.seat.leading:
            await asyncio.wait_for(conn.execute("SELECT 1"), self.check_timeout)
            return
        cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK,))
        row = await cur.fetchone()
        if row is None or row[0] is not True:
            return
        async with conn.transaction():
            cur = await conn.execute(
                "UPDATE hub_leader SET term = term + 1, holder = %s, since = now()"
                " WHERE id = 1 RETURNING term",
                (self.holder,),
            )
            term = await cur.fetchone()
        if term is None:
            raise psycopg.DataError("hub_leader has no row: the store was not migrated")
        self._set(True, int(str(term[0])))

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error, OSError):
                await conn.close()


def check_term(conn: psycopg.Connection[tuple[object, ...]], term: int) -> None:
    """Inside a transaction: refuses it unless `term` is still the leader's (the row is locked
    for share, so a new leader's term increment waits for this transaction)."""
    row = conn.execute("SELECT term, holder FROM hub_leader WHERE id = 1 FOR SHARE").fetchone()
    if row is None or row[0] != term:
        holder = row[1] if row is not None else "nobody"
        current = row[0] if row is not None else "none"
        raise FencedError(f"term {term} is over: {holder} leads in term {current}")
