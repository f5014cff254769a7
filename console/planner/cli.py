"""`tongchou plan`: the unified plan, offline — reuse or build, what to buy, what it saves."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

from console.documents import LoadError, build_fleet, load_documents, policies_of
from console.documents.builtin import UNSAFE_FLAG, UNSAFE_HELP, warnings_of, with_guardrails
from console.documents.planning import PlanningInputError, planning_input
from console.model.planning import PlanningInput
from console.planner import resilience, showback
from console.planner.emit import EmitError, emit, write
from console.planner.greedy import greedy
from console.planner.latency import LatencyMatrixError, read_matrix
from console.planner.milp import Progress, solve
from console.planner.problem import Problem, build_problem
from console.planner.report import Plan, make_plan
from console.planner.solution import Solution
from tongchou import plantext
from tongchou.climsg import say
from tongchou.durations import DurationError, parse_duration
from tongchou.i18n import LANGUAGES, default_lang
from tongchou.plantext import money


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fleet", type=Path, action="append", required=True, help="fleet files or folders"
    )
    parser.add_argument(
        "--planning",
        type=Path,
        action="append",
        required=True,
        help="Platform, Demand, ServerSku and PlanningPolicy files or folders",
    )
    parser.add_argument("--time-limit", default="30s", help="solver time limit (30s)")
    parser.add_argument(
        "--gap", type=float, default=0.001, help="stop at this relative gap (0.001)"
    )
    parser.add_argument(
        "--policies",
        type=Path,
        action="append",
        default=[],
        help="further PlacementPolicy files or folders: their `require` rules judge every option",
    )
    parser.add_argument(
        UNSAFE_FLAG, dest="unsafe_no_guardrails", action="store_true", help=UNSAFE_HELP
    )
    parser.add_argument(
        "--latency-matrix",
        type=Path,
        help="measured latencies (CSV: division,site,ms) replacing the estimate where given",
    )
    parser.add_argument(
        "--emit-workloads",
        type=Path,
        metavar="DIR",
        help="write the plan's Workload documents (and its purchased nodes) into DIR",
    )
    view = parser.add_mutually_exclusive_group()
    view.add_argument(
        "--showback",
        action="store_true",
        help="print each division's share of the shared platforms instead of the plan",
    )
    view.add_argument(
        "--resilience",
        action="store_true",
        help="print what losing each site, cluster or provider does to the plan (N-1)",
    )
    parser.add_argument(
        "-o", "--output", choices=("table", "json", "csv"), default="table",
        help="table or json; csv with --showback",
    )  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument(
        "--lang", choices=LANGUAGES, default=default_lang(),
        help="language of the table's words and reasons (default from LANG / LC_ALL)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    if args.output == "csv" and not args.showback:
        print(f"tongchou plan: {say(args.lang, 'csv_showback')}", file=sys.stderr)
        return 2
    try:
        time_limit = parse_duration(args.time_limit, "--time-limit", high=86_400)
        if not 0 <= args.gap < 1:
            raise DurationError(f"--gap must be between 0 and 1, got {args.gap}")
        documents = load_documents([*args.fleet, *args.planning, *args.policies])
        planning = planning_input(documents)
        fleet = build_fleet(documents)
        latency = (
            read_matrix(args.latency_matrix, set(fleet.sites)) if args.latency_matrix else None
        )
    except (LoadError, PlanningInputError, DurationError, LatencyMatrixError) as err:
        if isinstance(err, LoadError):
            print(err.text(args.lang), file=sys.stderr)
        elif isinstance(err, PlanningInputError):
            print("\n".join(e.text(args.lang) for e in err.errors), file=sys.stderr)
        else:
            print(err, file=sys.stderr)
        return 2
    guarded = with_guardrails(policies_of(documents), enabled=not args.unsafe_no_guardrails)
    for line in warnings_of(guarded):
        print(f"tongchou plan: {line}", file=sys.stderr)
    problem = build_problem(fleet, planning, list(guarded.policies), latency)
    baseline = greedy(problem)
    show = None if args.quiet else _progress_printer(time_limit)
    outcome = solve(problem, baseline, time_limit=time_limit, gap=args.gap, progress=show)
    if show is not None:
        print(file=sys.stderr)
    plan = make_plan(problem, outcome, baseline)
    if args.emit_workloads is not None:
        code = _emit(args, problem, planning, outcome.solution)
        if code:
            return code
    print(_output(args, problem, planning, plan), end="")
    return 0


def _emit(
    args: argparse.Namespace, problem: Problem, planning: PlanningInput, solution: Solution
) -> int:
    """Writes --emit-workloads; the exit code of a failure, 0 when written."""
    try:
        written = write(emit(problem, planning, solution), args.emit_workloads)
    except EmitError as err:
        print(f"tongchou plan: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        what = say(args.lang, "cannot_write", path=args.emit_workloads, error=err)
        print(f"tongchou plan: {what}", file=sys.stderr)
        return 1
    if not args.quiet:
        paths = ", ".join(str(p) for p in written)
        print(say(args.lang, "wrote", paths=paths), file=sys.stderr)
    return 0


def _output(args: argparse.Namespace, problem: Problem, planning: PlanningInput, plan: Plan) -> str:
    """What goes to standard output: the plan, its showback or its resilience, as asked."""
    if args.showback:
        rows = showback.showback(problem, plan)
        if args.output == "csv":
            return showback.to_csv(rows)
        if args.output == "json":
            return json.dumps(showback.to_json(rows, plan), ensure_ascii=False, indent=2) + "\n"
        return showback.render(rows, plan) + "\n"
    if args.resilience:
        assert plan.solution is not None
        losses = resilience.analyse(problem, planning, plan.solution)
        if args.output == "json":
            return json.dumps(resilience.to_json(losses), ensure_ascii=False, indent=2) + "\n"
        return resilience.render(losses) + "\n"
    if args.output == "json":
        return json.dumps(to_json(plan), ensure_ascii=False, indent=2) + "\n"
    return render(plan, args.lang) + "\n"


def _progress_printer(time_limit: float) -> Callable[[Progress], None]:
    """A one-line bar on standard error: time used of the limit, best plan, bound and gap."""
    tty = sys.stderr.isatty()

    def show(p: Progress) -> None:
        done = min(1.0, p.elapsed / time_limit) if time_limit else 1.0
        bar = "█" * round(done * 20) + "░" * (20 - round(done * 20))
        gap = f"{p.gap:.2%}" if math.isfinite(p.gap) and p.gap < 10 else "—"
        line = (
            f"solving {bar} {p.elapsed:5.1f}/{time_limit:g}s  best {money(p.incumbent)}  "
            f"bound {money(p.bound)}  gap {gap}"
        )
        print(("\r" + line) if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)

    return show


def to_json(plan: Plan) -> dict[str, object]:
    """The stable machine form (docs/planning.md)."""
    return {
        "apiVersion": "tongchou.io/v1",
        "kind": "Plan",
        "decisions": [
            {
                "demand": d.demand, "division": d.division, "platform": d.platform,
                "action": d.action, "instance": d.instance, "site": d.site, "cluster": d.cluster,
                "latencyMs": d.latency_ms, "reason": d.reason,
                "costCny": round(d.cost_cny, 2), "aloneCny": round(d.alone_cny, 2),
                "savesCny": round(d.saves_cny, 2),
            }
            for d in plan.decisions
        ],
        "purchases": [
            {"site": s, "cluster": cl, "sku": k, "servers": n, "costCny": round(c, 2)}
            for s, cl, k, n, c in plan.purchases
        ],
        "cost": {
            "serversCny": round(plan.cost.servers, 2), "energyCny": round(plan.cost.energy, 2),
            "buildsCny": round(plan.cost.builds, 2), "totalCny": round(plan.cost.total, 2),
        },
        "baselineCny": round(plan.baseline.total, 2),
        "everyoneBuildsCny": round(plan.counterfactual, 2),
        "savingsCny": round(plan.savings, 2),
        "sharedSpareCny": plan.spare_fen / 100,
        "utilization": {
            level: {"before": round(b, 4), "after": round(a, 4)}
            for level, (b, a) in plan.utilization.items()
        },
        "solver": {
            "name": "HiGHS", "status": plan.solver.status,
            "provenOptimal": plan.solver.proven,
            "objectiveCny": _finite(plan.solver.objective),
            "lowerBoundCny": _finite(plan.solver.bound),
            "gap": _finite(plan.solver.gap), "seconds": round(plan.solver.seconds, 3),
        },
    }  # fmt: skip


def _finite(value: float) -> float | None:
    return round(value, 6) if math.isfinite(value) else None


def render(plan: Plan, lang: str = "en") -> str:
    """The plan's report as a text table in `lang` (tongchou.plantext)."""
    return plantext.render(to_json(plan), lang)
