"""Prometheus's own tools for these tests: `promtool` and the server (Debian's `prometheus`).

`./dev test` installs the package when it is missing. Outside CI a machine without it
skips these tests; in CI (CI=true) a missing tool fails them, so they can never pass by
being skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "charts" / "tongchou" / "files" / "alerts.yaml"
RULE_TESTS = ROOT / "tests" / "observability" / "rules"
CHART = ROOT / "charts" / "tongchou"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} not found (Debian package prometheus; ./dev test installs it)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def promtool() -> str:
    return tool("promtool")


@pytest.fixture
def prometheus() -> str:
    return tool("prometheus")


def run_promtool(promtool: str, *args: str, stdin: str | None = None) -> str:
    """Runs promtool; a non-zero exit fails the test with its output."""
    done = subprocess.run(
        [promtool, *args], input=stdin, capture_output=True, text=True, timeout=120, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"promtool {' '.join(args)} failed:\n{output}"
    return output
