"""`tongchou validate` on workloads alone says what it misses: the fleet they refer to."""

from __future__ import annotations

import subprocess
import sys

from tests.samples import ROOT, SAMPLE


def validate(*paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tongchou", "validate", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_workloads_without_their_fleet_get_a_hint() -> None:
    alone = validate(str(SAMPLE / "workloads"))
    assert alone.returncode == 2
    assert 'Division "440000" is not declared' in alone.stderr
    assert "validate them together with the fleet" in alone.stderr
    together = validate(str(SAMPLE), str(SAMPLE / "workloads"))
    assert together.returncode == 0, together.stderr
    assert "hint:" not in together.stderr
