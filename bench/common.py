"""Shared by the benchmarks: the machine's description, and a hub process to measure."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    """One line naming the machine the figures come from."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = psutil.virtual_memory().total / 2**30
    return (
        f"machine: {model}, {psutil.cpu_count()} logical CPUs, {memory:.1f} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


@dataclass
class HubUnderTest:
    popen: subprocess.Popen[bytes]
    port: int
    metrics_port: int
    workdir: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def process(self) -> psutil.Process:
        return psutil.Process(self.popen.pid)

    def cpu_seconds(self) -> float:
        times = self.process.cpu_times()
        return float(times.user + times.system)

    def counter(self, name: str) -> float:
        """The value of an unlabelled counter or gauge on the hub's /metrics."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            for raw in response.read().decode().splitlines():
                if raw.startswith(name + " "):
                    return float(raw.split()[1])
        return 0.0

    def histogram(self, name: str) -> list[tuple[float, float]]:
        """(upper bound, cumulative count) pairs of an unlabelled histogram."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        out: list[tuple[float, float]] = []
        with urllib.request.urlopen(url, timeout=10) as response:
            for raw in response.read().decode().splitlines():
                if raw.startswith(name + "_bucket{"):
                    bound = raw.split('le="', 1)[1].split('"', 1)[0]
                    out.append((float(bound), float(raw.split()[-1])))
        return out

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(20)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)


def start_hub(
    *extra: str, workdir: Path | None = None, tls: tuple[Path, Path, Path] | None = None
) -> HubUnderTest:
    """A hub process on loopback with a fresh store, as `tongchou hub` runs in production;
    mutual TLS with `tls` = (CA, certificate, key), plaintext without."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="tongchou-bench-"))
    security = ["--insecure"]
    if tls is not None:
        security = ["--tls-ca", str(tls[0]), "--tls-cert", str(tls[1]), "--tls-key", str(tls[2])]
    ready = workdir / "ready.json"
    popen = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tongchou",
            "hub",
            *security,
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
            "--store",
            str(workdir / "hub.db"),
            "--ready-file",
            str(ready),
            "--log-level",
            "warning",
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "hub.log").open("wb"),
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 30
    while not ready.exists():
        if popen.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"hub did not start: {(workdir / 'hub.log').read_text()}")
        time.sleep(0.05)
    info = json.loads(ready.read_text())
    return HubUnderTest(popen, info["grpc_port"], info["metrics_port"], workdir)


def quantile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def histogram_quantile(buckets: list[tuple[float, float]], q: float) -> float:
    """Prometheus-style linear interpolation inside the bucket holding quantile q."""
    if not buckets or buckets[-1][1] == 0:
        return float("nan")
    total = buckets[-1][1]
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == float("inf"):
                return lower_bound
            span = count - lower_count
            share = (rank - lower_count) / span if span else 0.0
            return lower_bound + (bound - lower_bound) * share
        lower_bound, lower_count = bound, count
    return lower_bound
