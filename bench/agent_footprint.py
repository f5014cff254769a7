"""Runs a real agent against a real hub at a 10 s interval; prints its steady RSS and CPU share."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, start_hub


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interval", default="10s", help="report interval (10s)")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds before measuring")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds measured")
    args = parser.parse_args()
    print(machine())
    workdir = Path(tempfile.mkdtemp(prefix="tongchou-agent-bench-"))
    hub = start_hub("--report-interval", args.interval, workdir=workdir)
    agent = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tongchou",
            "agent",
            "--insecure",
            "--hub",
            hub.address,
            "--division",
            "440106",
            "--site",
            "bench-dc",
            "--cluster",
            "bench-a",
            "--provider",
            "on-prem",
            "--mlps-level",
            "3",
            "--interval",
            args.interval,
            "--metrics-listen",
            "127.0.0.1:0",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "agent.log").open("wb"),
    )
    try:
        time.sleep(args.warmup)
        proc = psutil.Process(agent.pid)
        if agent.poll() is not None:
            raise SystemExit(f"agent exited: {(workdir / 'agent.log').read_text()}")
        before = proc.cpu_times()
        started = time.monotonic()
        peak = 0
        samples = []
        while time.monotonic() - started < args.seconds:
            rss = proc.memory_info().rss
            samples.append(rss)
            peak = max(peak, rss)
            time.sleep(1.0)
        after = proc.cpu_times()
        elapsed = time.monotonic() - started
        cpu = (after.user + after.system) - (before.user + before.system)
        reports = hub.counter("tongchou_hub_reports_received_total")
        steady = sorted(samples)[len(samples) // 2] / 2**20
        full = proc.memory_full_info()
        print(
            f"agent at a {args.interval} interval over {elapsed:.0f}s: steady RSS {steady:.1f} MiB "
            f"(peak {peak / 2**20:.1f} MiB; USS {full.uss / 2**20:.1f} MiB, PSS "
            f"{full.pss / 2**20:.1f} MiB), {proc.num_threads()} threads, "
            f"CPU {cpu / elapsed:.3%} of one core ({cpu:.2f} s), "
            f"{reports:.0f} reports accepted by the hub"
        )
    finally:
        agent.terminate()
        agent.wait(10)
        hub.stop()


if __name__ == "__main__":
    main()
