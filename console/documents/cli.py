"""`tongchou validate`: checks document files and says what they hold, or what is wrong where."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from console.documents.codes import ENV_ALLOW
from console.documents.errors import DocumentError, LoadError
from console.documents.fleet import build_fleet
from console.documents.loader import load_documents
from console.documents.planning import PlanningInputError, planning_input
from tongchou.climsg import say
from tongchou.i18n import LANGUAGES, default_lang


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        type=Path,
        nargs="+",
        help="YAML files, or folders: every *.yaml and *.yml file in them and their "
        "subfolders, sorted by path",
    )
    parser.add_argument("-o", "--output", choices=("table", "json"), default="table")
    parser.add_argument(
        "--allow-new-codes",
        action="store_true",
        help="accept well-formed division codes missing from the national GB/T 2260 table "
        f"(divisions created since it was built; also {ENV_ALLOW}=1)",
    )
    parser.add_argument(
        "--lang", choices=LANGUAGES, default=default_lang(),
        help="language of the messages (default from LANG / LC_ALL); -o json stays English",
    )  # fmt: skip


_UNDECLARED = "is not declared"
UNDECLARED_HINT = say("en", "undeclared_hint")


def run(args: argparse.Namespace) -> int:
    try:
        documents = load_documents(args.paths, allow_new_codes=args.allow_new_codes, recursive=True)
        fleet = build_fleet(documents)
        planning_input(documents)  # cross-document rules of the planning kinds
    except (LoadError, PlanningInputError) as err:
        if args.output == "json":
            omitted = err.omitted if isinstance(err, LoadError) else 0
            errors = [error_json(e) for e in err.errors]
            out = {"valid": False, "errors": errors, "omitted": omitted}
            print(json.dumps(out, ensure_ascii=False, indent=2))
        else:
            print("\n".join(e.text(args.lang) for e in err.errors), file=sys.stderr)
            if isinstance(err, LoadError) and err.omitted:
                print(say(args.lang, "more_errors", n=err.omitted), file=sys.stderr)
            if any(_UNDECLARED in str(e) for e in err.errors):
                print(say(args.lang, "undeclared_hint"), file=sys.stderr)
        return 2
    kinds = Counter(doc.kind for doc in documents)
    by_kind = dict(sorted(kinds.items()))
    counts = {
        "documents": by_kind,
        "divisions": len(fleet.divisions),
        "sites": len(fleet.sites),
        "clusters": len(fleet.clusters),
        "nodes": len(fleet.nodes),
    }
    if args.output == "json":
        print(json.dumps({"valid": True, **counts}, ensure_ascii=False, indent=2))
    else:
        listed = ", ".join(f"{n} {kind}" for kind, n in by_kind.items())
        print(say(args.lang, "valid", n=len(documents), listed=listed))
        print(
            say(args.lang, "valid_fleet", divisions=counts["divisions"], sites=counts["sites"],
                clusters=counts["clusters"], nodes=counts["nodes"])
        )  # fmt: skip
    return 0


def error_json(error: DocumentError) -> dict[str, object]:
    """One error as `validate -o json` prints it: every key present, null when unknown."""
    return {
        "file": str(error.file),
        "line": error.line,
        "document": error.index,
        "kind": error.kind,
        "name": error.name,
        "field": error.field,
        "message": error.message,
    }
