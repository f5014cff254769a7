"""Real hub and agent processes on loopback, started and stopped for each test."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.samples import SAMPLE

__all__ = ["ROOT", "SAMPLE", "HubProc", "Launcher", "free_port"]

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Proc:
    """A child process with its log file."""

    popen: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        return self.popen.wait(timeout)


@dataclass
class HubProc(Proc):
    port: int
    metrics_port: int
    store: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


class Launcher:
    """Starts tongchou processes under tmp_path and stops all of them at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: list[Proc] = []
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    def spawn(self, name: str, *args: str) -> Proc:
        if args[:1] == ("simulate",) and "--tls-ca" not in args:  # hubs here are plaintext
            args = (*args, "--insecure")
        log = self.tmp / f"{name}-{len(self.procs)}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [sys.executable, "-m", "tongchou", *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.tmp,
            )
        proc = Proc(popen, log)
        self.procs.append(proc)
        return proc

    def hub(self, *extra: str, port: int = 0, store: Path | None = None) -> HubProc:
        store = store or self.tmp / "hub.db"
        ready = self.tmp / f"ready-{len(self.procs)}.json"
        proc = self.spawn(
            "hub",
            "hub",
            "--listen", f"127.0.0.1:{port}",
            "--metrics-listen", "127.0.0.1:0",
            "--store", str(store),
            "--ready-file", str(ready),
            "--report-interval", "0.5s",
            *(() if "--tls-ca" in extra else ("--insecure",)),
            *extra,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while not ready.exists():
            if proc.popen.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"hub did not start:\n{proc.text()}")
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        hub = HubProc(proc.popen, proc.log, info["grpc_port"], info["metrics_port"], store)
        self.procs[-1] = hub
        return hub

    def agent(self, hub: str, *extra: str, metrics_port: int | None = None) -> Proc:
        return self.spawn(
            "agent",
            "agent",
            "--hub", hub,
            "--node", "gz-tianhe-test-01",
            "--division", "440106",
            "--site", "gz-tianhe-dc",
            "--cluster", "gz-tianhe-a",
            "--provider", "on-prem",
            "--mlps-level", "3",
            "--label", "rack=r12",
            "--label", "owner=数字政府",
            "--interval", "0.5s",
            "--metrics-listen", f"127.0.0.1:{metrics_port or free_port()}",
            *(() if "--tls-ca" in extra else ("--insecure",)),
            *extra,
        )  # fmt: skip

    def close(self) -> None:
        for proc in reversed(self.procs):
            if proc.popen.poll() is None:
                proc.popen.kill()
                proc.popen.wait(10)


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Launcher]:
    launcher = Launcher(tmp_path)
    try:
        yield launcher
    finally:
        launcher.close()
