"""A busy metrics port is named as the metrics port, without a traceback, exit 2."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path


def test_a_busy_metrics_port_is_said_to_be_the_metrics_port(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable, "-m", "tongchou", "hub", "--insecure",
                "--listen", "127.0.0.1:0", "--metrics-listen", f"127.0.0.1:{port}",
                "--store", str(tmp_path / "hub.db"),
            ],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"cannot serve /metrics on 127.0.0.1:{port} (--metrics-listen)" in done.stderr
    assert "Traceback" not in done.stderr
