"""`tongchou policy check`: validates placement policy files; errors name file, line, column."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from console.documents import LoadError, load_documents, policies_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="validate PlacementPolicy files")
    check.add_argument("paths", type=Path, nargs="+", help="policy files or folders")


def run(args: argparse.Namespace) -> int:
    try:
        documents = load_documents(args.paths)
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
    width = max([len(p.name) for p in policies] + [6])
    print(f"{'POLICY':<{width}}  {'FORM':<7}  {'WEIGHT':>6}  MATCH")
    for p in sorted(policies, key=lambda p: p.name):
        print(f"{p.name:<{width}}  {p.form.value:<7}  {p.weight:>6g}  {p.match}")
    print(f"{len(policies)} policies valid")
    return 0
