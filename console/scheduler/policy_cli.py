"""`tongchou policy check`: validates placement policy files; errors name file, line, column."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from console.documents import LoadError, load_documents, policies_of
from console.documents.builtin import with_guardrails
from tongchou.climsg import say
from tongchou.i18n import LANGUAGES, default_lang
from tongchou.plantext import pad


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
    check.add_argument(
        "--lang", choices=LANGUAGES, default=default_lang(),
        help="language of the messages (default from LANG / LC_ALL)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    try:
        documents = load_documents(args.paths) if args.paths else []
    except LoadError as err:
        print(err.text(args.lang), file=sys.stderr)
        return 2
    others = sorted({d.kind for d in documents if d.kind != "PlacementPolicy"})
    if others:
        kinds = ", ".join(others)
        print(f"tongchou policy check: {say(args.lang, 'not_policies', kinds=kinds)}",
              file=sys.stderr)  # fmt: skip
        return 2
    policies = policies_of(documents)
    guarded = with_guardrails(policies)
    replaced = {p.name for p in guarded.overridden}
    width = max([len(p.name) for p in guarded.policies] + [6])
    print(f"{'POLICY':<{width}}  {'FORM':<7}  {'WEIGHT':>6}  {'SOURCE':<20}  MATCH")
    for p in sorted(guarded.policies, key=lambda p: p.name):
        if p.guardrail:
            source = say(args.lang, "source_guardrail")
        elif p.name in replaced:
            source = say(args.lang, "source_replaces")
        else:
            source = say(args.lang, "source_given")
        source = pad(source, 20)
        print(f"{p.name:<{width}}  {p.form.value:<7}  {p.weight:>6g}  {source}  {p.match}")
    rails = sum(1 for p in guarded.policies if p.guardrail)
    print(
        say(args.lang, "policies_valid", n=len(policies), rails=rails)
        + (say(args.lang, "policies_replaced", n=len(replaced)) if replaced else "")
    )
    return 0
