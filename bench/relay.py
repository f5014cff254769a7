"""Hub CPU per node-report through site relays against direct streams, side by side in one run."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, HubUnderTest, machine, start_hub
from console.documents import load_fleet
from console.model.fleet import Fleet
from console.simulate.nodes import SimNode, sim_node
from console.simulate.runner import Simulator

SAMPLE = ROOT / "examples" / "guangdong"


def nodes_by_site(count: int, sites: int) -> dict[str, list[SimNode]]:
    """`count` simulated agents cloned from the nodes of the sample's `sites` largest sites."""
    fleet: Fleet = load_fleet([SAMPLE])
    by_site: dict[str, list[str]] = defaultdict(list)
    for name in sorted(fleet.nodes):
        by_site[fleet.clusters[fleet.nodes[name].cluster].site].append(name)
    chosen = sorted(by_site, key=lambda s: -len(by_site[s]))[:sites]
    out: dict[str, list[SimNode]] = defaultdict(list)
    for i in range(count):
        site = chosen[i % len(chosen)]
        names = by_site[site]
        template = fleet.nodes[names[(i // len(chosen)) % len(names)]]
        copy = replace(template, name=f"{template.name}-r{i}")
        out[site].append(sim_node(fleet, copy))
    return out


def start_relay(hub: HubUnderTest, site: str, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    ready = workdir / f"relay-{site}.json"
    popen = subprocess.Popen(
        [
            sys.executable, "-m", "tongchou", "relay", "--insecure", "--site", site,
            "--hub", hub.address, "--listen", "127.0.0.1:0", "--ready-file", str(ready),
            "--log-level", "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(workdir / f"relay-{site}.log").open("wb"),
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not ready.exists():
        if popen.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"relay did not start: {(workdir / f'relay-{site}.log').read_text()}")
        time.sleep(0.05)
    return popen, int(json.loads(ready.read_text())["grpc_port"])


async def measure(
    direct: HubUnderTest, relayed: HubUnderTest, warmup: float, window: float
) -> list[tuple[str, float, float, float]]:
    """(path, reports/s, hub CPU share, hub CPU ms per report) for both hubs over one window."""
    await asyncio.sleep(warmup)
    hubs = (("direct streams", direct), ("through relays", relayed))
    before = [(h.counter("tongchou_hub_reports_received_total"), h.cpu_seconds()) for _n, h in hubs]
    started = time.monotonic()
    await asyncio.sleep(window)
    elapsed = time.monotonic() - started
    out = []
    for (name, hub), (reports0, cpu0) in zip(hubs, before, strict=True):
        reports = hub.counter("tongchou_hub_reports_received_total") - reports0
        cpu = hub.cpu_seconds() - cpu0
        out.append((name, reports / elapsed, cpu / elapsed, cpu / reports * 1000 if reports else 0))
    return out


async def run(agents: int, sites: int, interval: float, warmup: float, window: float) -> None:
    groups = nodes_by_site(agents, sites)
    every = [node for nodes in groups.values() for node in nodes]
    rate = ("--report-interval", f"{interval}s", "--max-report-rate", "1000000")
    direct = start_hub(*rate)
    relayed = start_hub(*rate, "--fleet", str(SAMPLE))
    workdir = Path(tempfile.mkdtemp(prefix="tongchou-bench-relay-"))
    relays = [start_relay(relayed, site, workdir) for site in groups]
    sims = [Simulator(direct.address, every, interval=interval, ramp_seconds=interval)]
    for (_site, nodes), (_popen, port) in zip(groups.items(), relays, strict=True):
        sims.append(Simulator(f"127.0.0.1:{port}", nodes, interval=interval, ramp_seconds=interval))
    tasks = [asyncio.create_task(sim.run(), name=f"bench-sim-{i}") for i, sim in enumerate(sims)]
    try:
        rows = await measure(direct, relayed, warmup, window)
        batches = relayed.counter("tongchou_hub_relay_batches_total")
        print(
            f"{agents} agents at {interval:g} s on each hub; {len(relays)} relays "
            f"({batches:.0f} batches so far)"
        )
        for name, per_second, share, per_report in rows:
            print(
                f"  {name:<15} {per_second:7.0f} reports/s, hub CPU {share:5.1%} of a core, "
                f"{per_report:.3f} ms per node-report"
            )
    finally:
        for sim in sims:
            sim.stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for popen, _port in relays:
            popen.terminate()
            popen.wait(20)
        direct.stop()
        relayed.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=2000, help="simulated agents per hub")
    parser.add_argument("--sites", type=int, default=4, help="sites, one relay each")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between reports")
    parser.add_argument("--warmup", type=float, default=15.0)
    parser.add_argument("--window", type=float, default=20.0)
    args = parser.parse_args()
    print(machine())
    print("both hubs, the relays and the simulator (in this process) share this machine")
    asyncio.run(run(args.agents, args.sites, args.interval, args.warmup, args.window))


if __name__ == "__main__":
    main()
