"""`tongchou demo` in a real terminal (tmux): the console paints, keys navigate, `q` ends all."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", *args], check=True, capture_output=True, text=True, timeout=20
    ).stdout


def screen(session: str) -> str:
    return tmux("capture-pane", "-t", session, "-p")


def wait_for(session: str, words: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = screen(session)
        if words in text:
            return text
        time.sleep(0.3)
    raise AssertionError(f"{words!r} never showed; the screen was:\n{text}")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_demo_console_in_tmux_navigates_and_quits_cleanly(tmp_path: Path) -> None:
    session = f"tongchou-test-{os.getpid()}"
    state = tmp_path / "state"
    command = " ".join(
        [
            sys.executable, "-m", "tongchou", "demo", "--limit", "120", "--no-local-agent",
            "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
            "--state-dir", str(state),
        ]
    )  # fmt: skip
    tmux("new-session", "-d", "-s", session, "-x", "140", "-y", "40", f"{command}; sleep 30")
    tmux("resize-window", "-t", session, "-x", "140", "-y", "40")
    try:
        overview = wait_for(session, "county")
        assert "Overview" in overview and "nodes ·" in overview
        tmux("send-keys", "-t", session, "n")
        nodes = wait_for(session, "State")
        assert "ready" in nodes
        tmux("send-keys", "-t", session, "w")
        wait_for(session, "gd-unified-identity")
        tmux("send-keys", "-t", session, "l")
        wait_for(session, "工作负载")
        tmux("send-keys", "-t", session, "q")
        after = wait_for(session, "demo stopped", timeout=30)
        assert "Traceback" not in after
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False, timeout=20)
    left = subprocess.run(
        ["pgrep", "-f", str(state)], capture_output=True, text=True, check=False
    ).stdout.split()
    assert left == [], f"processes left behind: {left}"
