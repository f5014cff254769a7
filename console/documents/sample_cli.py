"""`tongchou sample DIR`: writes the shipped sample province and default policies to a folder."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from console.documents.builtin import default_policies_dir, sample_dir
from tongchou.climsg import say


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
        print(f"tongchou sample: {say(args.lang, 'sample_exists', path=target)}", file=sys.stderr)
        return 2
    try:
        shutil.copytree(sample_dir(), target / "guangdong")
        shutil.copytree(default_policies_dir(), target / "policies")
    except OSError as err:
        print(
            f"tongchou sample: {say(args.lang, 'cannot_write', path=target, error=err)}",
            file=sys.stderr,
        )
        return 1
    gd = target / "guangdong"
    print(
        say(args.lang, "sample_wrote", fleet=gd, policies=target / "policies") + "\n"
        f"  tongchou validate {gd}\n"
        f"  tongchou schedule --fleet {gd} --workloads {gd / 'workloads'} "
        f"--policies {target / 'policies'}\n"
        f"  tongchou plan --fleet {gd} --planning {gd / 'planning'}"
    )
    return 0
