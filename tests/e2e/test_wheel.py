"""The built wheel works on its own: installed with the console extra into a clean venv, run
from another folder, it finds the sample province and default policies in the package."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# one demo at a time: each starts Prometheus on the demo's default port
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]


def run(*args: str | Path, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.timeout(900)
def test_the_wheel_runs_the_demo_schedule_and_plan_from_another_folder(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, ROOT, cwd=tmp_path)
    (wheel,) = dist.glob("tongchou-*.whl")

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    pip: list[str | Path] = [
        venv / "bin" / "python",
        "-m",
        "pip",
        "--disable-pip-version-check",
        "-q",
    ]
    locked = ROOT / "requirements" / "console.txt"
    run(*pip, "install", "--require-hashes", "-r", locked, cwd=tmp_path)
    run(*pip, "install", f"{wheel}[console]", cwd=tmp_path)
    tongchou = venv / "bin" / "tongchou"

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    demo = run(
        tongchou, "demo", "--headless", "--duration", "20s", "--every", "5s",
        "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
        "--state-dir", tmp_path / "state", "--no-local-agent",
        cwd=elsewhere, timeout=300,
    )  # fmt: skip
    totals = re.findall(r"^total\s+([\d,]+)", demo.stdout, re.MULTILINE)
    assert totals and int(totals[-1].replace(",", "")) > 0, demo.stdout
    assert "workloads: 10, " in demo.stdout

    run(tongchou, "sample", "gd", cwd=elsewhere)
    sample = elsewhere / "gd" / "guangdong"
    schedule = run(
        tongchou, "schedule", "--fleet", sample, "--workloads", sample / "workloads",
        "-o", "json", cwd=elsewhere,
    )  # fmt: skip
    placements = json.loads(schedule.stdout)["placements"]
    assert len(placements) == 10
    assert sum(sum(p["placed"].values()) for p in placements) > 0
    plan = run(
        tongchou, "plan", "--fleet", sample, "--planning", sample / "planning",
        "--quiet", "-o", "json", cwd=elsewhere,
    )  # fmt: skip
    assert json.loads(plan.stdout)["decisions"]
