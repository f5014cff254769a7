"""The agent beside Prometheus's node_exporter on one machine: RSS, USS and CPU per report.

Starts a hub (mutual TLS, as in production), node_exporter (Debian's prometheus-node-exporter)
and one agent per transport, scrapes every /metrics at the report interval as Prometheus
would, and prints each process's steady RSS (median of per-second samples after the warm-up),
USS, CPU per report (per scrape for node_exporter) and the ratio to node_exporter's RSS.
`--breakdown` adds where each agent's resident memory lies (/proc/PID/smaps).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, start_hub

NODE_EXPORTER = ("prometheus-node-exporter", "node_exporter")
MiB = 2**20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Measured:
    """A process under measurement and what was sampled of it."""

    name: str
    popen: subprocess.Popen[bytes]
    metrics_url: str
    log: Path
    rss: list[int] = field(default_factory=list)
    scrapes: int = 0
    cpu_start: float = 0.0

    @property
    def process(self) -> psutil.Process:
        return psutil.Process(self.popen.pid)

    def cpu(self) -> float:
        times = self.process.cpu_times()
        return float(times.user + times.system)

    def scrape(self) -> str:
        with urllib.request.urlopen(self.metrics_url, timeout=10) as response:
            self.scrapes += 1
            return str(response.read().decode())

    def check(self) -> None:
        if self.popen.poll() is not None:
            raise SystemExit(f"{self.name} exited: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)


def accepted(text: str) -> float:
    for line in text.splitlines():
        if line.startswith('tongchou_agent_reports_total{result="accepted"}'):
            return float(line.split()[-1])
    return 0.0


def smaps_breakdown(pid: int, top: int = 8) -> list[str]:
    """Resident memory by mapping: anonymous (heap, arenas, stacks) and each file."""
    by_name: dict[str, int] = {}
    name = "[anon]"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if not head:
            continue
        if not head[0].endswith(":") or "-" in head[0]:
            name = head[5] if len(head) > 5 else "[anon]"
            continue
        if head[0] == "Rss:":
            by_name[name] = by_name.get(name, 0) + int(head[1]) * 1024
    ranked = sorted(by_name.items(), key=lambda kv: -kv[1])[:top]
    return [f"    {size / MiB:6.1f} MiB  {where}" for where, size in ranked]


def start_agent(
    transport: str, hub: str, tls: Path, workdir: Path, interval: str, python: Path
) -> Measured:
    port = free_port()
    log = workdir / f"agent-{transport}.log"
    # a settings file, as the systemd unit runs it (--config /etc/tongchou/agent.yaml)
    settings = {
        "hub": hub,
        "node": f"bench-{transport}",
        "division": "440106",
        "site": "bench-dc",
        "cluster": "bench-a",
        "provider": "on-prem",
        "mlpsLevel": 3,
        "interval": interval,
        "metricsListen": f"127.0.0.1:{port}",
        "transport": transport,
        "tlsCa": str(tls / "ca.crt"),
        "tlsCert": str(tls / f"bench-{transport}.crt"),
        "tlsKey": str(tls / f"bench-{transport}.key"),
    }
    config = workdir / f"agent-{transport}.yaml"
    config.write_text("".join(f"{key}: {json.dumps(value)}\n" for key, value in settings.items()))
    argv = [
        str(python.with_name("tongchou-agent")),  # the console script, as the unit runs it
        "--config",
        str(config),
        "--log-level",
        "warning",
    ]
    popen = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        # as the systemd unit runs it
        env={**os.environ, "MALLOC_ARENA_MAX": "2", "PYTHONUNBUFFERED": "1"},
    )
    return Measured(f"agent ({transport})", popen, f"http://127.0.0.1:{port}/metrics", log)


def start_node_exporter(workdir: Path) -> Measured:
    binary = next((found for name in NODE_EXPORTER if (found := shutil.which(name))), None)
    if binary is None:
        raise SystemExit(
            "node_exporter not found: apt-get install prometheus-node-exporter (Debian)"
        )
    port = free_port()
    log = workdir / "node-exporter.log"
    popen = subprocess.Popen(
        [binary, f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    return Measured("node_exporter", popen, f"http://127.0.0.1:{port}/metrics", log)


def install_agent(workdir: Path, python: str, grpcio: bool) -> Path:
    """The agent as a node gets it: the offline bundle installed with the node's Python
    (compiled bytecode, no editable install); plus the locked grpcio to compare transports."""
    root = Path(__file__).resolve().parent.parent
    out = workdir / "bundle"
    built = subprocess.run(
        [
            sys.executable,
            str(root / "scripts" / "agent_bundle.py"),
            "--arch",
            os.uname().machine,
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    archive = Path(built.stdout.strip())
    subprocess.run(["tar", "xzf", str(archive), "-C", str(out)], check=True)
    bundle = out / archive.name.removesuffix(".tar.gz")
    prefix = workdir / "node"
    subprocess.run(
        [str(bundle / "install.sh"), "--prefix", str(prefix), "--no-service"],
        env={**os.environ, "PYTHON": python},
        capture_output=True,
        check=True,
    )
    venv = prefix / "venv"
    if grpcio:
        lock = (root / "requirements" / "console.txt").read_text()
        version = re.search(r"^grpcio==([\w.]+)", lock, re.M)
        pin = f"grpcio=={version.group(1)}" if version else "grpcio"
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", pin],
            capture_output=True,
            check=True,
        )
    return venv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--interval", default="10s", help="report and scrape interval (10s)")
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds before measuring")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds measured")
    parser.add_argument(
        "--transport",
        action="append",
        choices=("auto", "h2", "grpcio"),
        help="agent transports to run side by side (default: h2 and grpcio)",
    )
    parser.add_argument("--breakdown", action="store_true", help="resident memory by mapping")
    parser.add_argument(
        "--agent-venv",
        type=Path,
        help="run the agent installed in this virtual environment (default: install the "
        "offline bundle into a new one, as on a node)",
    )
    parser.add_argument(
        "--python",
        default="/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable,
        help="the node's Python for the new environment (default: the distribution's)",
    )
    args = parser.parse_args()
    transports = args.transport or ["h2", "grpcio"]
    pace = float(args.interval.rstrip("s"))
    print(machine())
    from console.security.pki import CertificateAuthority

    workdir = Path(tempfile.mkdtemp(prefix="tongchou-agent-bench-"))
    tls = workdir / "tls"
    ca = CertificateAuthority.init(tls / "ca")
    (tls / "ca.crt").write_bytes(ca.cert_pem)
    hub_cert, hub_key = ca.issue("hub", "hub").write(tls, "hub")
    for name in transports:
        ca.issue("node", f"bench-{name}").write(tls, f"bench-{name}")
    hub = start_hub(
        "--report-interval",
        args.interval,
        workdir=workdir,
        tls=(tls / "ca.crt", hub_cert, hub_key),
    )
    venv = args.agent_venv or install_agent(workdir, args.python, "grpcio" in transports)
    processes = [start_node_exporter(workdir)]
    try:
        python = venv / "bin" / "python"
        processes += [
            start_agent(t, hub.address, tls, workdir, args.interval, python) for t in transports
        ]
        deadline = time.monotonic() + args.warmup
        while time.monotonic() < deadline:
            time.sleep(1.0)
            for proc in processes:
                proc.check()
        for proc in processes:
            proc.cpu_start = proc.cpu()
        reports_before = {p.name: accepted(p.scrape()) for p in processes}
        started = time.monotonic()
        next_scrape = started + pace
        while time.monotonic() - started < args.seconds:
            for proc in processes:
                proc.check()
                proc.rss.append(proc.process.memory_info().rss)
            if time.monotonic() >= next_scrape:
                for proc in processes:
                    proc.scrape()
                next_scrape += pace
            time.sleep(1.0)
        elapsed = time.monotonic() - started
        rows = []
        baseline = 0.0
        for proc in processes:
            text = proc.scrape()
            cpu = proc.cpu() - proc.cpu_start
            steady = sorted(proc.rss)[len(proc.rss) // 2] / MiB
            uss = proc.process.memory_full_info().uss / MiB
            if proc.name == "node_exporter":
                baseline = steady
                per, unit = cpu / max(proc.scrapes, 1), "scrape"
            else:
                reports = accepted(text) - reports_before[proc.name]
                per, unit = cpu / max(reports, 1), "report"
            rows.append((proc, steady, uss, cpu, per, unit))
        print(
            f"{len(transports)} agent(s) reporting to a mutual-TLS hub every {args.interval}, "
            f"each /metrics scraped every {args.interval}; measured {elapsed:.0f}s "
            f"after {args.warmup:.0f}s"
        )
        print(
            f"{'process':<20} {'RSS MiB':>8} {'USS MiB':>8} {'CPU s':>7} {'CPU ms per':>14}  ratio"
        )
        for proc, steady, uss, cpu, per, unit in rows:
            print(
                f"{proc.name:<20} {steady:8.1f} {uss:8.1f} {cpu:7.2f} "
                f"{per * 1000:7.1f} {unit:<6}  {steady / baseline:5.2f}"
            )
        if args.breakdown:
            for proc in processes[1:]:
                print(f"{proc.name}: resident memory by mapping")
                print("\n".join(smaps_breakdown(proc.popen.pid)))
    finally:
        for proc in processes:
            proc.stop()
        hub.stop()
        shutil.rmtree(workdir, ignore_errors=True)  # the node's venv, certificates, logs


if __name__ == "__main__":
    main()
