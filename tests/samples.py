"""The sample province the tests share: where it is (one path for every suite)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "guangdong"
"""The sample province's fleet documents (workloads, planning and policies beside them)."""


def tongchou(
    *args: object, lang: str = "en_US.UTF-8", cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """`python -m tongchou ARGS` under the locale `lang`, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "tongchou", *map(str, args)],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
        env={"LANG": lang, "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
