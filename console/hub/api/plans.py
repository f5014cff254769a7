"""PlanService: the unified plan against the live inventory, with progress as it solves."""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Literal

import grpc

from console.documents.planning import PlanningInputError, planning_input
from console.hub.api import limits
from console.hub.api.answers import found
from console.hub.api.intake import InputRefused, Intake
from console.hub.api.messages import plan_result_message, progress_message
from console.hub.api.solver import Solver, SolverFailed
from console.hub.api.submission import Submissions
from console.hub.collectors import PlannerMetrics
from console.hub.control.workloads import WorkloadError, WorkloadManager
from console.hub.fleet.view import live_fleet
from console.planner.milp import Progress
from console.planner.report import Plan
from console.planner.rules import CLUSTER_LABEL
from console.planner.views import PlanViews
from console.store.offloop import StoreUnavailable
from tongchou.v1 import plans_pb2, plans_pb2_grpc

MAX_TIME_LIMIT = 600.0
MAX_DOCUMENT = limits.MAX_PLAN_BYTES
KEPT = 50
"""Finished plans the hub keeps for ListPlans/GetPlan (in memory: a plan can be run again)."""


class PlanApi(plans_pb2_grpc.PlanServiceServicer):
    """Runs the solver in a process of its own (at most two at a time), stopped when the
    caller goes away; the event loop keeps serving meanwhile."""

    def __init__(
        self,
        workloads: WorkloadManager,
        metrics: PlannerMetrics | None = None,
        intake: Intake | None = None,
        solver: Solver | None = None,
        submissions: Submissions | None = None,
    ) -> None:
        self.workloads = workloads  # for the fleet documents and the live inventory
        self.metrics = metrics
        self.intake = intake or Intake()
        self.solver = solver or Solver()
        self.plans: deque[plans_pb2.PlanResult] = deque(maxlen=KEPT)
        # a plan's workloads go the way of any submitted workload (one change at a time)
        self.submissions = submissions or Submissions(workloads, intake=self.intake)
        self.documents: dict[int, dict[str, str]] = {}  # plan id → its Workload documents
        self._next_id = 1

    async def RunPlan(
        self,
        request: plans_pb2.RunPlanRequest,
        context: grpc.aio.ServicerContext[plans_pb2.RunPlanRequest, plans_pb2.PlanEvent],
    ) -> AsyncIterator[plans_pb2.PlanEvent]:
        limit, gap = await _limits(request, context)
        try:
            documents = await self.intake.read(
                request.yaml,
                limits.SUBMITTED_PLAN,
                max_bytes=MAX_DOCUMENT,
                known=self.workloads.known(planning=True),
            )
            planning = planning_input(documents)
        except InputRefused as err:
            await context.abort(err.code, err.message)
            return
        except PlanningInputError as err:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
            return
        fleet = live_fleet(
            self.workloads.documents, self.workloads.inventory, usage_as_allocated=True
        )
        started = time.perf_counter()
        plan: Plan | None = None
        views = PlanViews()
        try:
            # the options are judged by the hub scheduler's own policies (guardrails included)
            policies = tuple(self.workloads.policies)
            solving = self.solver.run(fleet, planning, limit, gap, policies)
            async with contextlib.aclosing(solving) as run:
                async for item in run:
                    if isinstance(item, Progress):
                        yield progress_message(item)
                    elif isinstance(item, PlanViews):
                        views = item
                    else:
                        plan = item
        except SolverFailed as err:
            if self.metrics is not None:
                self.metrics.failed(time.perf_counter() - started)
            await context.abort(grpc.StatusCode.INTERNAL, str(err))
            return
        assert plan is not None
        if self.metrics is not None:
            self.metrics.succeeded(
                time.perf_counter() - started, plan.cost.total, plan.counterfactual, time.time()
            )
        event = plans_pb2.PlanEvent(result=plan_result_message(plan, views))
        yield self._keep(event, views.workloads)

    def _keep(self, event: plans_pb2.PlanEvent, documents: dict[str, str]) -> plans_pb2.PlanEvent:
        """Numbers the finished plan and keeps it (and its workloads) for ListPlans, GetPlan
        and SubmitPlan."""
        event.result.id = self._next_id
        event.result.finished_at.GetCurrentTime()
        self._next_id += 1
        self.plans.appendleft(event.result)
        self.documents[event.result.id] = documents
        kept = {p.id for p in self.plans}
        for gone in [i for i in self.documents if i not in kept]:
            del self.documents[gone]
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
            for name in BULKY:
                brief.ClearField(name)
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

    async def SubmitPlan(
        self,
        request: plans_pb2.SubmitPlanRequest,
        context: grpc.aio.ServicerContext[
            plans_pb2.SubmitPlanRequest, plans_pb2.SubmitPlanResponse
        ],
    ) -> plans_pb2.SubmitPlanResponse:
        plan = await found(
            next((p for p in self.plans if p.id == request.id), None),
            context,
            f"no plan {request.id} (the hub keeps the newest {KEPT} since it started)",
        )
        if plan.unsubmittable:
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"plan {plan.id} cannot be submitted: {plan.unsubmittable}",
            )
        documents = self.documents[plan.id]
        records = self.workloads.records
        taken = sorted(
            name
            for name in documents
            if name in records and CLUSTER_LABEL not in records[name].workload.labels
        )
        if taken:
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"plan {plan.id} was not submitted: its workload names "
                f"{', '.join(taken[:5])}{' …' if len(taken) > 5 else ''} belong to workloads "
                "no plan submitted (rename the demands, or delete those workloads first)",
            )
        out = plans_pb2.SubmitPlanResponse()
        for done, name in enumerate(sorted(documents)):
            try:
                status = await self.submissions.submit(documents[name])
            except StoreUnavailable as err:
                await context.abort(
                    grpc.StatusCode.UNAVAILABLE,
                    f"{done} of {len(documents)} workloads of plan {plan.id} submitted, then "
                    f"{err}; nothing more was changed: submitting the plan again is safe",
                )
            except (InputRefused, WorkloadError) as err:
                why = err.message if isinstance(err, InputRefused) else str(err)
                await context.abort(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    f"{done} of {len(documents)} workloads of plan {plan.id} submitted; "
                    f"the hub refuses {name}: {why}",
                )
            out.workloads.append(status)
            out.pending_replicas += status.pending
        return out


BULKY: tuple[
    Literal[
        "json", "table", "resilience_json", "resilience_table", "showback_json",
        "showback_table", "workloads",
    ],
    ...,
] = (
    "json", "table", "resilience_json", "resilience_table", "showback_json", "showback_table",
    "workloads",
)  # fmt: skip
"""Fields ListPlans leaves out (GetPlan answers them)."""


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
