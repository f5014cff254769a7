"""`tongchou sample DIR`: writes the shipped sample province and default policies to a folder."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from console.documents.builtin import default_policies_dir, sample_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dir",
        type=Path,
        nargs="?",
        default=Path("tongchou-sample"),
        help="the folder to write (default ./tongchou-sample); it must not exist yet",
    )


def run(args: argparse.Namespace) -> int:
    target: Path = args.dir
    if target.exists():
        print(f"tongchou sample: {target} exists; name a new folder", file=sys.stderr)
        return 2
    try:
        shutil.copytree(sample_dir(), target / "guangdong")
        shutil.copytree(default_policies_dir(), target / "policies")
    except OSError as err:
        print(f"tongchou sample: cannot write {target}: {err}", file=sys.stderr)
        return 1
    gd = target / "guangdong"
    print(
        f"wrote the sample Guangdong province to {gd} and the default policies to "
        f"{target / 'policies'}; try:\n"
        f"  tongchou validate {gd}\n"
        f"  tongchou schedule --fleet {gd} --workloads {gd / 'workloads'} "
        f"--policies {target / 'policies'}\n"
        f"  tongchou plan --fleet {gd} --planning {gd / 'planning'}"
    )
    return 0
