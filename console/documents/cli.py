"""`tongchou validate`: checks document files and says what they hold, or what is wrong where."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from console.documents.errors import LoadError
from console.documents.fleet import build_fleet
from console.documents.loader import load_documents
from console.documents.planning import PlanningInputError, planning_input


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", type=Path, nargs="+", help="YAML files or folders of them")
    parser.add_argument("-o", "--output", choices=("table", "json"), default="table")


def run(args: argparse.Namespace) -> int:
    try:
        documents = load_documents(args.paths)
        fleet = build_fleet(documents)
        planning_input(documents)  # cross-document rules of the planning kinds
    except (LoadError, PlanningInputError) as err:
        print(err, file=sys.stderr)
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
        print(f"valid: {len(documents)} documents ({listed})")
        print(
            f"fleet: {counts['divisions']} divisions, {counts['sites']} sites, "
            f"{counts['clusters']} clusters, {counts['nodes']} nodes"
        )
    return 0
