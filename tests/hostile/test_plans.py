"""Plans are solved in processes of their own, at most `max_plans` at a time, and a plan whose
caller has gone away is stopped (its process ends)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from console.hub.api.solver import Solver
from console.model.fleet import Fleet
from console.model.planning import PlanningInput
from console.model.workload import PlacementPolicy


def endless(
    out: Connection,
    fleet: Fleet,
    planning: PlanningInput,
    limit: float,
    gap: float,
    policies: tuple[PlacementPolicy, ...],
) -> None:
    """A planner process that never finishes (as a hard MILP may seem to)."""
    while True:
        time.sleep(1)


async def first_item(solver: Solver) -> None:
    async with contextlib.aclosing(solver.run(Fleet(), PlanningInput(), 600, 0.01)) as run:
        async for _item in run:
            return


async def settle(check: Callable[[], bool], seconds: float = 30) -> None:
    """Waits until `check()` holds (processes start and stop in their own time)."""
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    assert check(), "the condition never held"


async def test_plans_are_capped_and_stopped_when_the_caller_goes() -> None:
    solver = Solver(max_plans=1, target=endless)
    one = asyncio.create_task(first_item(solver), name="plan-one")
    await settle(lambda: len(solver.running) == 1)
    [process] = list(solver.running)
    assert process.is_alive()
    two = asyncio.create_task(first_item(solver), name="plan-two")
    await settle(lambda: solver.waiting == 1)
    assert len(solver.running) == 1  # the second waits its turn
    one.cancel()
    await settle(lambda: not process.is_alive())
    await settle(lambda: solver.waiting == 0 and len(solver.running) == 1)
    [second] = list(solver.running)
    assert second is not process and second.is_alive()
    two.cancel()
    await settle(lambda: not second.is_alive() and not solver.running)
    for task in (one, two):
        with contextlib.suppress(asyncio.CancelledError):
            await task
