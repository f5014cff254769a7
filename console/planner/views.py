"""What a finished plan shows beside its report: its N-1 resilience, its showback, and the
Workload documents that carry it out, computed together where the plan was solved."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import yaml

from console.model.planning import PlanningInput
from console.planner import resilience, showback
from console.planner.emit import EmitError, emit
from console.planner.problem import Problem
from console.planner.report import Plan


@dataclass(frozen=True, slots=True)
class PlanViews:
    """Each view as `tongchou plan --resilience` / `--showback` print it (table and JSON);
    the emitted Workload documents by name, or why the plan cannot be written as workloads."""

    resilience_json: str = ""
    resilience_table: str = ""
    showback_json: str = ""
    showback_table: str = ""
    workloads: dict[str, str] = field(default_factory=dict)  # name → one YAML document
    unsubmittable: str = ""


def plan_views(problem: Problem, planning: PlanningInput, plan: Plan) -> PlanViews:
    rows = showback.showback(problem, plan)
    losses = resilience.analyse(problem, planning, plan.solution) if plan.solution else []
    workloads: dict[str, str] = {}
    why = ""
    if plan.solution is None:
        why = "the solver found no plan to carry out"
    else:
        try:
            emitted = emit(problem, planning, plan.solution)
        except EmitError as err:
            why = str(err)
        else:
            for document in emitted.workloads:
                name = str(document["metadata"]["name"])
                workloads[name] = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    return PlanViews(
        resilience_json=json.dumps(resilience.to_json(losses), ensure_ascii=False),
        resilience_table=resilience.render(losses),
        showback_json=json.dumps(showback.to_json(rows, plan), ensure_ascii=False),
        showback_table=showback.render(rows, plan),
        workloads=workloads,
        unsubmittable=why,
    )
