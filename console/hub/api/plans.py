"""PlanService: the unified plan against the live inventory, with progress as it solves."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator

import grpc

from console.documents import LoadError, load_text
from console.documents.planning import PlanningInputError, planning_input
from console.hub.api.answers import found
from console.hub.api.messages import plan_result_message, progress_message
from console.hub.collectors import PlannerMetrics
from console.hub.control.workloads import WorkloadManager
from console.hub.fleet.view import live_fleet
from console.planner.greedy import greedy
from console.planner.milp import Progress, solve
from console.planner.problem import build_problem
from console.planner.report import make_plan
from tongchou.v1 import plans_pb2, plans_pb2_grpc

MAX_TIME_LIMIT = 600.0
MAX_DOCUMENT = 4 * 1024 * 1024
KEPT = 50
"""Finished plans the hub keeps for ListPlans/GetPlan (in memory: a plan can be run again)."""


class PlanApi(plans_pb2_grpc.PlanServiceServicer):
    """Runs the solver on a worker thread; the event loop keeps serving meanwhile."""

    def __init__(self, workloads: WorkloadManager, metrics: PlannerMetrics | None = None) -> None:
        self.workloads = workloads  # for the fleet documents and the live inventory
        self.metrics = metrics
        self.plans: deque[plans_pb2.PlanResult] = deque(maxlen=KEPT)
        self._next_id = 1

    async def RunPlan(
        self,
        request: plans_pb2.RunPlanRequest,
        context: grpc.aio.ServicerContext[plans_pb2.RunPlanRequest, plans_pb2.PlanEvent],
    ) -> AsyncIterator[plans_pb2.PlanEvent]:
        limit, gap = await _limits(request, context)
        fleet = live_fleet(
            self.workloads.documents, self.workloads.inventory, usage_as_allocated=True
        )
        known = {"Division": set(fleet.divisions), "Site": set(fleet.sites)}
        try:
            planning = planning_input(load_text(request.yaml, "submitted documents", known=known))
        except (LoadError, PlanningInputError) as err:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
            return
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[plans_pb2.PlanEvent | None] = asyncio.Queue()

        def progress(p: Progress) -> None:
            loop.call_soon_threadsafe(events.put_nowait, progress_message(p))

        def work() -> plans_pb2.PlanEvent:
            problem = build_problem(fleet, planning)
            baseline = greedy(problem)
            outcome = solve(problem, baseline, time_limit=limit, gap=gap, progress=progress)
            plan = make_plan(problem, outcome, baseline)
            if self.metrics is not None:
                self.metrics.succeeded(
                    time.perf_counter() - started, plan.cost.total, plan.counterfactual, time.time()
                )
            return plans_pb2.PlanEvent(result=plan_result_message(plan))

        started = time.perf_counter()
        task = asyncio.create_task(asyncio.to_thread(work), name="hub-plan-solver")
        task.add_done_callback(lambda _t: loop.call_soon(events.put_nowait, None))
        while (event := await events.get()) is not None:
            yield event
        try:
            event = await task
        except Exception:
            if self.metrics is not None:
                self.metrics.failed(time.perf_counter() - started)
            raise
        yield self._keep(event)

    def _keep(self, event: plans_pb2.PlanEvent) -> plans_pb2.PlanEvent:
        """Numbers the finished plan and keeps it for ListPlans and GetPlan."""
        event.result.id = self._next_id
        event.result.finished_at.GetCurrentTime()
        self._next_id += 1
        self.plans.appendleft(event.result)
        return event

    async def ListPlans(
        self,
        request: plans_pb2.ListPlansRequest,
        context: grpc.aio.ServicerContext[plans_pb2.ListPlansRequest, plans_pb2.ListPlansResponse],
    ) -> plans_pb2.ListPlansResponse:
        out = plans_pb2.ListPlansResponse()
        for plan in self.plans:
            brief = out.plans.add()
            brief.CopyFrom(plan)
            brief.ClearField("json")
            brief.ClearField("table")
        return out

    async def GetPlan(
        self,
        request: plans_pb2.GetPlanRequest,
        context: grpc.aio.ServicerContext[plans_pb2.GetPlanRequest, plans_pb2.PlanResult],
    ) -> plans_pb2.PlanResult:
        plan = next((p for p in self.plans if p.id == request.id), None)
        return await found(
            plan,
            context,
            f"no plan {request.id} (the hub keeps the newest {KEPT} since it started)",
        )


async def _limits(
    request: plans_pb2.RunPlanRequest,
    context: grpc.aio.ServicerContext[plans_pb2.RunPlanRequest, plans_pb2.PlanEvent],
) -> tuple[float, float]:
    """The solver's time limit and gap; INVALID_ARGUMENT when out of range or too large."""
    limit = request.time_limit_seconds or 30.0
    gap = request.gap or 0.001
    if not 0 < limit <= MAX_TIME_LIMIT:
        await context.abort(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"time_limit_seconds must be between 0 and {MAX_TIME_LIMIT:g}",
        )
    if not 0 < gap < 1:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "gap must be between 0 and 1")
    if len(request.yaml.encode()) > MAX_DOCUMENT:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the documents are too large")
    return limit, gap
