"""The unified plan solved in a process of its own: at most MAX_PLANS at a time, each one
stopped when its caller goes away or it overruns its time limit; progress comes back over a
pipe that the event loop watches, so neither the loop nor the hub's worker threads wait on
the solver."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import AsyncGenerator, Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from console.model.fleet import Fleet
from console.model.planning import PlanningInput
from console.model.workload import PlacementPolicy
from console.planner.greedy import greedy
from console.planner.milp import Progress, solve
from console.planner.problem import build_problem
from console.planner.report import Plan, make_plan
from console.planner.views import PlanViews, plan_views

log = logging.getLogger("tongchou.hub.solver")

MAX_PLANS = 2
"""Plans solved at the same time; further callers wait their turn."""

OVERRUN = 60.0
"""Seconds past its time limit after which a plan's process is stopped."""


Target = Callable[
    [Connection, Fleet, PlanningInput, float, float, tuple[PlacementPolicy, ...]], None
]


class SolverFailed(RuntimeError):
    """The planner process ended without a plan (it failed, or was stopped)."""


def _solve(
    out: Connection,
    fleet: Fleet,
    planning: PlanningInput,
    limit: float,
    gap: float,
    policies: tuple[PlacementPolicy, ...],
) -> None:
    """The planner process: progress, then the plan's views, then the plan, over `out`."""

    def progress(p: Progress) -> None:
        out.send(("progress", p))

    problem = build_problem(fleet, planning, list(policies))
    baseline = greedy(problem)
    outcome = solve(problem, baseline, time_limit=limit, gap=gap, progress=progress)
    plan = make_plan(problem, outcome, baseline)
    out.send(("views", plan_views(problem, planning, plan)))
    out.send(("plan", plan))
    out.close()


class Solver:
    """Starts planner processes ("spawn": the hub's gRPC threads are not forked)."""

    def __init__(self, max_plans: int = MAX_PLANS, target: Target | None = None) -> None:
        self.max_plans = max_plans
        self.target: Target = target or _solve  # what the process runs (tests give another)
        self._context = multiprocessing.get_context("spawn")
        self._slots: asyncio.Semaphore | None = None
        self.running: set[BaseProcess] = set()
        self.waiting = 0

    async def run(
        self,
        fleet: Fleet,
        planning: PlanningInput,
        limit: float,
        gap: float,
        policies: tuple[PlacementPolicy, ...] = (),
    ) -> AsyncGenerator[Progress | PlanViews | Plan, None]:
        """Progress while the plan is solved, its views (resilience, showback, workloads),
        then the plan; SolverFailed if no plan comes.
        Closing the iterator (the caller went away) stops the process."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_plans)
        slots = self._slots
        self.waiting += 1
        try:
            await slots.acquire()
        finally:
            self.waiting -= 1
        loop = asyncio.get_running_loop()
        inbox, outbox = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=self.target,
            args=(outbox, fleet, planning, limit, gap, policies),
            name="tongchou-plan",
            daemon=True,
        )
        items: asyncio.Queue[tuple[str, object] | None] = asyncio.Queue()

        def readable() -> None:
            try:
                items.put_nowait(inbox.recv())
            except (EOFError, OSError):
                loop.remove_reader(inbox.fileno())
                items.put_nowait(None)

        try:
            await asyncio.to_thread(process.start)  # writes the inputs to the new process
            outbox.close()
            self.running.add(process)
            loop.add_reader(inbox.fileno(), readable)
            async with asyncio.timeout(limit + OVERRUN):
                while (item := await items.get()) is not None:
                    kind, value = item
                    if kind == "plan" and isinstance(value, Plan):
                        yield value
                        return
                    if isinstance(value, Progress | PlanViews):
                        yield value
            raise SolverFailed(
                f"the planner process ended without a plan (exit {process.exitcode})"
            )
        except TimeoutError:
            raise SolverFailed(f"the plan overran its time limit of {limit:g} s") from None
        finally:
            loop.remove_reader(inbox.fileno())
            inbox.close()
            self._stop(process)
            slots.release()

    def _stop(self, process: BaseProcess) -> None:
        if process.pid is None:
            return
        if process.is_alive():
            log.info("stopping planner process %s", process.pid)
            process.terminate()
        self._reap(process)

    def _reap(self, process: BaseProcess) -> None:
        """Waits for the process without blocking the loop: checks again until it is gone."""
        if process.is_alive():
            asyncio.get_running_loop().call_later(0.2, self._reap, process)
            return
        process.join(0)
        self.running.discard(process)

    def close(self) -> None:
        for process in list(self.running):
            if process.is_alive():
                process.kill()
