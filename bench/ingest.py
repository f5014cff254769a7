"""Drives a real hub with 1,000 and 10,000 simulated agents; prints throughput, latency, CPU."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    ROOT,
    HubUnderTest,
    histogram_quantile,
    machine,
    quantile,
    start_hub,
)
from console.documents import load_fleet
from console.model.fleet import Fleet
from console.simulate.nodes import SimNode, sim_node
from console.simulate.runner import Simulator


def fleet_nodes(count: int) -> list[SimNode]:
    """`count` simulated agents: the sample province's nodes, cloned with suffixes as needed."""
    fleet: Fleet = load_fleet([ROOT / "examples" / "guangdong"])
    templates = [fleet.nodes[name] for name in sorted(fleet.nodes)]
    out = []
    for i in range(count):
        node = templates[i % len(templates)]
        copy = replace(node, name=f"{node.name}-b{i // len(templates)}")
        out.append(sim_node(fleet, copy))
    return out


async def drive(
    hub: HubUnderTest, agents: int, interval: float, warmup: float, window: float
) -> str:
    nodes = fleet_nodes(agents)
    sim = Simulator(hub.address, nodes, interval=interval, ramp_seconds=min(interval, 5.0))
    task = asyncio.create_task(sim.run(), name="bench-simulator")
    await asyncio.sleep(warmup)
    reports0 = hub.counter("tongchou_hub_reports_received_total")
    cpu0 = hub.cpu_seconds()
    buckets0 = hub.histogram("tongchou_hub_ingest_duration_seconds")
    sim.stats.latencies.clear()
    sim.stats.keep_latencies = True
    started = time.monotonic()
    await asyncio.sleep(window)
    elapsed = time.monotonic() - started
    reports = hub.counter("tongchou_hub_reports_received_total") - reports0
    cpu = hub.cpu_seconds() - cpu0
    buckets = [
        (bound, count - before)
        for (bound, count), (_b, before) in zip(
            hub.histogram("tongchou_hub_ingest_duration_seconds"), buckets0, strict=True
        )
    ]
    rss = hub.process.memory_info().rss / 2**20
    sim.stats.keep_latencies = False
    latencies = sorted(sim.stats.latencies)
    connected = sim.stats.connected
    sim.stop.set()
    await task
    rate = reports / elapsed
    per_report_ms = cpu / reports * 1000 if reports else float("nan")
    return (
        f"{agents:>6} agents @ {interval:g}s: {connected} streams, {rate:8.0f} reports/s accepted, "
        f"hub CPU {cpu / elapsed:5.1%} of a core = {per_report_ms * 1000 / 1000:.3f} ms/report "
        f"({cpu / reports * 1000 * 1000 if reports else float('nan'):.0f} ms per 1,000), "
        f"hub RSS {rss:.0f} MiB\n"
        f"        round trip p50 {quantile(latencies, 0.5) * 1000:.2f} ms, "
        f"p99 {quantile(latencies, 0.99) * 1000:.2f} ms (agent side); "
        f"hub ingest p50 {histogram_quantile(buckets, 0.5) * 1000:.3f} ms, "
        f"p99 {histogram_quantile(buckets, 0.99) * 1000:.3f} ms (hub side)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--interval", type=float, default=None, help="seconds between reports")
    parser.add_argument("--warmup", type=float, default=15.0)
    parser.add_argument("--window", type=float, default=20.0)
    args = parser.parse_args()
    print(machine())
    print("hub and simulator share this machine; the simulator runs in this process")
    for agents in args.agents:
        interval = args.interval or max(1.0, agents / 1000)
        hub = start_hub("--report-interval", f"{interval}s", "--max-report-rate", "1000000")
        try:
            print(asyncio.run(drive(hub, agents, interval, args.warmup, args.window)), flush=True)
        finally:
            hub.stop()


if __name__ == "__main__":
    main()
