"""Bad flags of `tongchou report` exit 2 and say which flag is wrong and why, before any hub
or browser is called."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def report(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tongchou", "report", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (("--month", "2026-13", "--insecure"), "--month '2026-13': give a month as YYYY-MM"),
        (("--month", "2999-01", "--insecure"), "--month 2999-01: the month has not begun yet"),
        (
            ("--month", "2026-11", "--insecure", "-o", "report.docx"),
            "-o report.docx: the report is written as .pdf or .html",
        ),
        (
            ("--month", "2026-11", "--insecure", "--prometheus", "localhost:9090"),
            "--prometheus 'localhost:9090': give an http:// or https:// URL",
        ),
        (
            (
                "--month",
                "2026-11",
                "--insecure",
                "--prometheus",
                "http://127.0.0.1:9",
                "--prometheus-token-file",
                "missing-token",
            ),
            "--prometheus-token-file missing-token: No such file",
        ),
        (("--month", "2026-11", "-o", "r.html"), "the hub speaks mutual TLS"),
        (
            ("--month", "2026-11", "--insecure", "--chromium", "no-such-browser", "-o", "r.pdf"),
            "--chromium no-such-browser: no such program",
        ),
    ],
)
def test_bad_flags_exit_2(tmp_path: Path, flags: tuple[str, ...], said: str) -> None:
    done = report(*flags, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"tongchou report: {said}" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_hub_that_is_not_there_is_a_runtime_failure(tmp_path: Path) -> None:
    done = report("--month", "2026-11", "--insecure", "--hub", "127.0.0.1:9", "-o", "r.html",
                  cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1
    assert "tongchou report: the hub at 127.0.0.1:9:" in done.stderr
    assert not (tmp_path / "r.html").exists()
