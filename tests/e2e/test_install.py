"""`pip install tongchou` alone gives a working agent, without the console's stack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_plain_install_runs_the_agent_and_nothing_of_the_console(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "-q", str(ROOT)], check=True, timeout=600, capture_output=True)
    listed = subprocess.run(
        [*pip, "list", "--format", "json"], check=True, capture_output=True, text=True
    )
    installed = {p["name"].lower().replace("_", "-") for p in json.loads(listed.stdout)}
    assert {"h2", "protobuf", "pyyaml", "cryptography"} <= installed
    # no compiled gRPC, no psutil, no Prometheus client: the agent's transport, its /proc
    # reads and its /metrics are its own
    assert not installed & {"grpcio", "psutil", "prometheus-client", "pydantic", "textual"}

    once = subprocess.run(
        [str(venv / "bin" / "tongchou-agent"), "--once", "-o", "json", "--division", "440106"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    report = json.loads(once.stdout)
    assert report["identity"]["division"] == "440106"
    assert report["identity"]["level"] == "LEVEL_COUNTY"
    assert report["sequence"] == "1"
    assert report["capacity"]["cpuLogical"] >= 1

    hub = subprocess.run(
        [str(venv / "bin" / "tongchou"), "hub", "--store", str(tmp_path / "h.db")],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert hub.returncode == 1
    assert "pip install 'tongchou[console]'" in hub.stderr
