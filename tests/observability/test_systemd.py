"""The agent's systemd unit passes systemd's own checks: every directive known, exposure low.

Uses systemd-analyze where the machine has it (Debian does); without it the test skips, as
the unit's content is also checked by tests/agent/test_deploy_files.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.observability.conftest import ROOT

UNIT = ROOT / "deploy" / "systemd" / "tongchou-agent.service"


@pytest.fixture
def unit(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this environment's agent (verify checks it exists)."""
    agent = Path(sys.executable).with_name("tongchou-agent")
    assert agent.exists()
    text = UNIT.read_text(encoding="utf-8")
    assert "/opt/tongchou/venv/bin/tongchou-agent" in text
    path = tmp_path / UNIT.name
    path.write_text(text.replace("/opt/tongchou/venv/bin/tongchou-agent", str(agent)), "utf-8")
    return path


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("systemd-analyze")
    if binary is None:
        pytest.skip("systemd-analyze not found")
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=60, check=False)


def test_systemd_analyze_verify_finds_nothing_wrong(unit: Path) -> None:
    done = analyze("verify", "--man=no", str(unit))
    assert done.returncode == 0, done.stderr
    assert unit.name not in done.stdout + done.stderr, done.stdout + done.stderr


def test_verify_does_report_an_unknown_directive(unit: Path) -> None:
    unit.write_text(unit.read_text("utf-8").replace("ProtectHome=", "ProtectHomes="), "utf-8")
    done = analyze("verify", "--man=no", str(unit))
    assert "Unknown key 'ProtectHomes'" in done.stdout + done.stderr


def test_the_agent_is_sandboxed(unit: Path) -> None:
    """systemd's exposure score of the unit is at most 2.0 of 10 (it reads /proc, /sys and
    /etc/os-release, and talks to the hub and to Prometheus)."""
    done = analyze("security", "--offline=yes", "--threshold=20", str(unit))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
