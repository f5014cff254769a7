"""`tongchou schedule`: offline placement of workloads on a fleet under policies."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from console.documents import LoadError, build_fleet, load_documents, policies_of, workloads_of
from console.documents.builtin import UNSAFE_FLAG, UNSAFE_HELP, warnings_of, with_guardrails
from console.model.fleet import Fleet
from console.model.workload import PlacementPolicy, Workload
from console.scheduler.assumed import assumptions, render_assumptions
from console.scheduler.result import Placement
from console.scheduler.scheduler import Scheduler
from tongchou.climsg import say
from tongchou.i18n import LANGUAGES, default_lang, translate_composed


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """--fleet, --workloads and --policies: what `schedule` and `apply` place."""
    parser.add_argument(
        "--fleet", type=Path, action="append", required=True, help="fleet files or folders"
    )
    parser.add_argument(
        "--workloads", type=Path, action="append", required=True, help="Workload files"
    )
    parser.add_argument(
        "--policies",
        type=Path,
        action="append",
        default=[],
        help="PlacementPolicy files or folders, in force with the built-in compliance "
        "guardrails (a policy named like a guardrail replaces it)",
    )
    parser.add_argument(
        UNSAFE_FLAG, dest="unsafe_no_guardrails", action="store_true", help=UNSAFE_HELP
    )


def read_inputs(
    args: argparse.Namespace, command: str
) -> tuple[Fleet, list[Workload], list[PlacementPolicy]] | None:
    """The fleet, workloads and policies the input arguments name; None when they are bad
    (what is wrong and where is printed, in the command's --lang, and the command exits 2)."""
    lang = getattr(args, "lang", "en")
    try:
        documents = load_documents([*args.fleet, *args.workloads, *args.policies])
    except LoadError as err:
        print(err.text(lang), file=sys.stderr)
        return None
    workloads = workloads_of(documents)
    if not workloads:
        print(f"tongchou {command}: {say(lang, 'no_workloads')}", file=sys.stderr)
        return None
    guarded = with_guardrails(policies_of(documents), enabled=not args.unsafe_no_guardrails)
    for line in warnings_of(guarded):
        print(f"tongchou {command}: {line}", file=sys.stderr)
    return build_fleet(documents), workloads, list(guarded.policies)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser)
    parser.add_argument("--explain", action="store_true", help="show every cluster's verdict")
    parser.add_argument("-o", "--output", choices=("table", "json", "yaml"), default="table")
    parser.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=default_lang(),
        help="the language of the table's reasons and the messages (default: from the locale, "
        "LANG/LC_ALL); "
        "-o json|yaml stays English",
    )


def run(args: argparse.Namespace) -> int:
    inputs = read_inputs(args, "schedule")
    if inputs is None:
        return 2
    fleet, workloads, policies = inputs
    scheduler = Scheduler(fleet, policies)
    placements = scheduler.schedule(workloads, explain=args.explain)
    assumed = assumptions(fleet, workloads, policies)
    if args.output == "table":
        print(render(placements, explain=args.explain, lang=args.lang))
        print(render_assumptions(assumed, lang=args.lang))
    else:
        data = {
            "apiVersion": "tongchou.io/v1",
            "kind": "PlacementList",
            "placements": [p.to_dict() for p in placements],
            "assumed": assumed,
        }
        if args.output == "json":
            print(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            import yaml

            print(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), end="")
    return 0


def render(placements: list[Placement], *, explain: bool = False, lang: str = "en") -> str:
    """Placements as a table; with `explain`, every cluster's verdict under each workload.
    Reasons are in `lang`."""
    width = max([len(p.workload) for p in placements] + [8])
    lines = [f"{'WORKLOAD':<{width}}  {'WANT':>4}  {'PLACED':>6}  {'PENDING':>7}  WHERE / WHY"]
    for p in placements:
        where = ", ".join(f"{c}×{n}" for c, n in sorted(p.placed.items()))
        if p.pending:
            where = (where + "; " if where else "") + translate_composed(lang, p.reason)
        lines.append(
            f"{p.workload:<{width}}  {p.replicas:>4}  {p.placed_total:>6}  {p.pending:>7}  {where}"
        )
        if explain and p.verdicts is not None:
            lines.extend(_explain(p, lang))
    placed = sum(p.placed_total for p in placements)
    wanted = sum(p.replicas for p in placements)
    stuck = sum(1 for p in placements if p.pending)
    lines.append(
        say(lang, "scheduled", n=len(placements), placed=placed, wanted=wanted, stuck=stuck)
    )
    return "\n".join(lines)


def _explain(p: Placement, lang: str) -> list[str]:
    assert p.verdicts is not None
    summary = translate_composed(lang, p.summary)
    out = [f"    {summary}" if summary else "    every cluster is a candidate"]
    out.append(
        f"    {'CLUSTER':<24} {'FIT':>5} {'CAP':>5} {'SCORE':>7} {'REPL':>4}  TERMS / REMOVED BY"
    )
    ranked = sorted(p.verdicts, key=lambda v: (v.removed_by != "", -v.score, v.cluster))
    for v in ranked:
        if v.removed_by:
            detail = f"removed by {v.removed_by}: {translate_composed(lang, v.reason)}"
            out.append(f"    {v.cluster:<24} {v.fit:>5} {'':>5} {'':>7} {'':>4}  {detail}")
        else:
            terms = " ".join(f"{k}={t:.1f}" for k, t in v.terms.items())
            row = f"{v.cluster:<24} {v.fit:>5} {v.cap:>5} {v.score:>7.1f} {v.replicas:>4}"
            why = translate_composed(lang, v.reason)
            out.append(f"    {row}  {terms}" + (f"  ({why})" if why else ""))
    return out
