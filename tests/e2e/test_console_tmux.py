"""`tongchou demo` in a real terminal (tmux): the console paints, keys navigate, `q` ends all."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

# one demo at a time: each starts Prometheus on the demo's default port
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]


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


def gone(session: str, words: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while words in (text := screen(session)):
        if time.monotonic() > deadline:
            raise AssertionError(f"{words!r} stayed; the screen was:\n{text}")
        time.sleep(0.2)


def assert_none_left(state: Path) -> None:
    """No process of the demo outlives its session (tmux ends the pane's shell a moment
    after kill-session returns; the demo's Prometheus may take a while on a loaded machine)."""
    deadline = time.monotonic() + 30
    while True:
        left = subprocess.run(
            ["pgrep", "-f", str(state)], capture_output=True, text=True, check=False
        ).stdout.split()
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert left == [], f"processes left behind: {left}"


WORDS = {
    "en": {"overview": "county", "nodes": "State", "clusters": "Provider", "help": "this help",
           "explain": "Explanation", "events": "Message", "paused": "paused", "sites": "baiyun-dc",
           "save_as": "Save the filter", "saved": "saved in", "pick": "Saved filters of",
           "stopped": "demo stopped"},
    "zh": {"overview": "县级", "nodes": "状态", "clusters": "云服务商", "help": "本帮助",
           "explain": "调度说明", "events": "内容", "paused": "已暂停", "sites": "baiyun-dc",
           "save_as": "把筛选", "saved": "已保存到", "pick": "的已保存筛选",
           "stopped": "演示已停止"},
}  # fmt: skip


def filtered(session: str, timeout: float = 60.0) -> str:
    """Waits for the node table to show some of its 120 rows, not all."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = screen(session)
        if re.search(r"(?<!\d)(\d{1,2}|1[01]\d) (of|/) 120 (rows|行)", text):
            return text
        time.sleep(0.3)
    raise AssertionError(f"the node filter never applied; the screen was:\n{text}")


def keys(session: str, *pressed: str) -> None:
    for key in pressed:
        tmux("send-keys", "-t", session, key)
        # Escape and the next key read in one go are Alt+key: give the console time to read
        time.sleep(0.6 if key == "Escape" else 0.15)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize(
    ("lang", "width", "height"),
    [("en", 100, 30), ("zh", 200, 50), ("zh", 100, 30), ("en", 200, 50)],
)
def test_demo_console_in_tmux_walks_every_view_without_a_trap(
    tmp_path: Path, lang: str, width: int, height: int
) -> None:
    session = f"tongchou-test-{os.getpid()}-{lang}-{width}"
    state = tmp_path / "state"
    command = " ".join(
        [
            f"XDG_STATE_HOME={state}", sys.executable, "-m", "tongchou", "demo", "--limit", "120",
            "--no-local-agent", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
            "--state-dir", str(state), "--lang", lang,
        ]
    )  # fmt: skip
    size = ("-x", str(width), "-y", str(height))
    tmux("new-session", "-d", "-s", session, *size, f"{command}; sleep 30")
    tmux("resize-window", "-t", session, *size)
    words = WORDS[lang]
    try:
        wait_for(session, words["overview"])
        keys(session, "n")
        wait_for(session, words["nodes"])
        keys(session, "/", "Enter", "c")  # the filter gives the keys back
        wait_for(session, words["clusters"])
        keys(session, "Enter")  # drill into the first cluster, then back
        wait_for(session, "›")
        keys(session, "Escape")
        wait_for(session, words["clusters"])
        keys(session, "n", "/", *"hygon", "Enter", "F")  # save the node filter, clear, recall
        wait_for(session, words["save_as"])
        keys(session, *"mine", "Enter")
        wait_for(session, words["saved"])
        filtered(session)
        keys(session, "Escape", "Escape", "f")
        wait_for(session, words["pick"])
        keys(session, "Enter")
        filtered(session)
        keys(session, "n", "/", "x", "y", "Escape", "t")  # Escape leaves the filter
        wait_for(session, words["sites"])
        keys(session, "?")
        wait_for(session, words["help"])
        keys(session, "Escape")  # alone: Escape and a key sent together read as Alt+key
        gone(session, words["help"])
        keys(session, "w")
        wait_for(session, "gd-")  # the demo's workloads are listed (submitted as it starts)
        keys(session, "x")
        wait_for(session, words["explain"])
        keys(session, "v")  # the first workload's stored YAML; scale it to 17
        wait_for(session, "kind: Workload")
        keys(session, *["BSpace"] * 6, "1", "7", "Enter")
        wait_for(session, "/17")  # the Workloads table shows the new count
        keys(session, "y", "p", "e")
        wait_for(session, words["events"])
        keys(session, "z")
        wait_for(session, words["paused"])
        keys(session, "z", "o")
        shown = wait_for(session, words["overview"])
        footer = [line for line in shown.splitlines() if line.strip()][-1]
        assert "? " in footer and "q " in footer, shown  # help and quit stay on the footer
        keys(session, "q")
        after = wait_for(session, words["stopped"], timeout=30)
        assert "Traceback" not in after
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False, timeout=20)
    assert_none_left(state)


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
    assert_none_left(state)
