"""The demo hub's shared-platform catalog: the sample province's Platform documents with the
sample fleet (or those `--catalog` names), so the situation view shows platform tenants."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from console.documents import LoadError
from console.hub.rollup.cli_options import read_platforms
from console.model.planning import Platform
from tongchou.climsg import say


def add_arguments(parser: argparse.ArgumentParser, sample: Path) -> None:
    parser.add_argument(
        "--catalog",
        type=Path,
        action="append",
        help="Platform documents: shared platforms and their tenants, for the situation view"
        f" (default {sample / 'planning' / 'catalog.yaml'} with the sample fleet, else none)",
    )


def platforms(args: argparse.Namespace, sample: Path) -> tuple[Platform, ...] | None:
    """The catalog's platforms (read with the fleet, whose sites and divisions they name);
    None, once it has said where, when its documents are invalid."""
    paths = args.catalog or ([] if args.fleet else [sample / "planning" / "catalog.yaml"])
    try:
        return read_platforms(paths, args.fleet or [sample])
    except LoadError as err:
        what = say(args.lang, "catalog_invalid", errors=err.text(args.lang))
        print(f"tongchou demo: {what}", file=sys.stderr)
        return None
