"""The agent stays small: importing it loads nothing of the console's stack (grpc itself may
load grpc_health when installed, so that is not checked here; import-linter checks our code)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
import agent.cli, agent.daemon, agent.collect, agent.metrics, agent.report
heavy = sorted(m for m in sys.modules if m.split(".")[0] in
               {"console", "pydantic", "textual", "kubernetes", "numpy", "scipy"})
print(",".join(heavy))
"""


def test_agent_imports_nothing_of_the_console() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""


def test_import_contracts_hold() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stdout + result.stderr
