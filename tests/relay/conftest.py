"""Real hub, relay and simulated-agent processes on loopback, with a two-site fleet."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Launcher, Proc

FLEET = """\
apiVersion: tongchou.io/v1
kind: Division
metadata: {name: "440000"}
spec: {name: 广东省, level: province}
---
apiVersion: tongchou.io/v1
kind: Division
metadata: {name: "440100"}
spec: {name: 广州市, level: city, parent: "440000"}
---
apiVersion: tongchou.io/v1
kind: Site
metadata: {name: site-a}
spec: {division: "440100", provider: on-prem, powerPriceCnyPerKwh: 0.6, pue: 1.4}
---
apiVersion: tongchou.io/v1
kind: Site
metadata: {name: site-b}
spec: {division: "440100", provider: on-prem, powerPriceCnyPerKwh: 0.6, pue: 1.4}
---
apiVersion: tongchou.io/v1
kind: Cluster
metadata: {name: a1}
spec: {site: site-a, mlpsLevel: 3}
---
apiVersion: tongchou.io/v1
kind: Cluster
metadata: {name: b1}
spec: {site: site-b, mlpsLevel: 3}
---
apiVersion: tongchou.io/v1
kind: NodePool
metadata: {name: a}
spec:
  cluster: a1
  arch: x86_64
  chip: hygon-7380
  count: 6
  capacity: {cpu: "64", memory: 256Gi, disk: 2Ti}
---
apiVersion: tongchou.io/v1
kind: NodePool
metadata: {name: b}
spec:
  cluster: b1
  arch: x86_64
  chip: hygon-7380
  count: 3
  capacity: {cpu: "64", memory: 256Gi, disk: 2Ti}
"""

SITE_A_NODES = [f"a-{i}" for i in range(1, 7)]


@pytest.fixture
def fleet_file(tmp_path: Path) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET, encoding="utf-8")
    return path


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Launcher]:
    launcher = Launcher(tmp_path)
    try:
        yield launcher
    finally:
        launcher.close()


def start_relay(launcher: Launcher, hub: str, *extra: str, port: int = 0) -> tuple[Proc, int, int]:
    """A relay process; returns it with its agents' port and metrics port once it listens."""
    ready = launcher.tmp / f"relay-ready-{len(launcher.procs)}.json"
    proc = launcher.spawn(
        "relay",
        "relay",
        "--hub", hub,
        "--listen", f"127.0.0.1:{port}",
        "--metrics-listen", "127.0.0.1:0",
        "--ready-file", str(ready),
        "--batch-wait", "100ms",
        "--report-interval", "0.5s",
        *extra,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while not ready.exists():
        if proc.popen.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"relay did not start:\n{proc.text()}")
        time.sleep(0.05)
    info = json.loads(ready.read_text())
    return proc, int(info["grpc_port"]), int(info["metrics_port"])
