"""Regenerates the Python stubs in tongchou/v1 from protos/ (never edit the stubs by hand)."""

from __future__ import annotations

import argparse
import shutil
import sys
import sysconfig
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"


def _plugin(name: str) -> str:
    for folder in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        candidate = folder / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found: install the 'dev' extra (mypy-protobuf)")
    return found


def generate(out: Path) -> list[Path]:
    """Writes the stubs of every .proto under protos/ into `out`; returns the files written."""
    sources = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    include = str(Path(protoc.__file__).parent / "_proto")
    args = [
        "protoc",
        f"-I{PROTOS}",
        f"-I{include}",
        f"--plugin=protoc-gen-mypy={_plugin('protoc-gen-mypy')}",
        f"--plugin=protoc-gen-mypy_grpc={_plugin('protoc-gen-mypy_grpc')}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--mypy_out={out}",
        f"--mypy_grpc_out={out}",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for package in {Path(s).parent for s in sources}:
        init = out / package / "__init__.py"
        init.write_text('"""Generated from protos/; do not edit."""\n', encoding="utf-8")
        parent_init = out / package.parent / "__init__.py"
        if not parent_init.exists():
            parent_init.write_text("", encoding="utf-8")
    return sorted(p for p in out.rglob("*") if p.is_file() and p.parent.name != "__pycache__")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--out", type=Path, default=ROOT, help="output root (default: the repository)"
    )
    args = parser.parse_args()
    generate(args.out)


if __name__ == "__main__":
    main()
