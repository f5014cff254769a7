"""The console served to browsers: its gate, its flags, read-only mode, and a real browser."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import launch

__all__ = ["artifacts", "launch", "plain", "system_tool"]

ANSI = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]")
"""Terminal control sequences, removed to read what a screen's bytes say."""


def plain(data: str) -> str:
    """The text of terminal output, without its control sequences."""
    return ANSI.sub("", data)


def artifacts(tmp: Path) -> Path:
    """Where a test keeps its screenshots: $TONGCHOU_TEST_ARTIFACTS when set (CI keeps that
    folder), else the test's own temporary folder."""
    folder = Path(os.environ.get("TONGCHOU_TEST_ARTIFACTS", "") or tmp)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def system_tool(name: str, package: str) -> str:
    """A Debian program a test needs: fails in CI when missing (./dev test installs it),
    skips elsewhere."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} not found (Debian package {package}; ./dev test installs it)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message)
        pytest.skip(message)
    return path
