"""`tongchou policy check`: validates placement policy files; errors name file, line, column."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from console.documents import LoadError, load_documents, policies_of
from console.documents.builtin import with_guardrails


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = sub.add_parser(
        "check",
        help="validate PlacementPolicy files and list the policies in force with them "
        "(the built-in compliance guardrails included)",
    )
    check.add_argument(
        "paths", type=Path, nargs="*", help="policy files or folders (none: the guardrails alone)"
    )


def run(args: argparse.Namespace) -> int:
    try:
        documents = load_documents(args.paths) if args.paths else []
    except LoadError as err:
        print(err, file=sys.stderr)
        return 2
    others = sorted({d.kind for d in documents if d.kind != "PlacementPolicy"})
    if others:
        print(
            f"tongchou policy check: not policies: {', '.join(others)} documents", file=sys.stderr
        )
        return 2
    policies = policies_of(documents)
    guarded = with_guardrails(policies)
    replaced = {p.name for p in guarded.overridden}
    width = max([len(p.name) for p in guarded.policies] + [6])
    print(f"{'POLICY':<{width}}  {'FORM':<7}  {'WEIGHT':>6}  {'SOURCE':<20}  MATCH")
    for p in sorted(guarded.policies, key=lambda p: p.name):
        if p.guardrail:
            source = "built-in guardrail"
        elif p.name in replaced:
            source = "given, replaces one"
        else:
            source = "given"
        print(f"{p.name:<{width}}  {p.form.value:<7}  {p.weight:>6g}  {source:<20}  {p.match}")
    rails = sum(1 for p in guarded.policies if p.guardrail)
    print(
        f"{len(policies)} policies valid; in force with them: {rails} built-in compliance "
        f"guardrails" + (f" ({len(replaced)} replaced by yours)" if replaced else "")
    )
    return 0
