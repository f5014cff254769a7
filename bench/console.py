"""The console against a hub with 10,000 simulated nodes streaming: time to first paint,
keystroke-to-frame latency (typing a filter, paging down), and the console's CPU share."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil

from bench.common import ROOT, machine, quantile, start_hub
from console.client import HubClient
from console.tui.app import TongchouApp
from console.tui.widgets.fleet_table import FleetTable

POOL = """---
apiVersion: tongchou.io/v1
kind: NodePool
metadata: {{name: bench-{i}}}
spec:
  cluster: {cluster}
  arch: x86_64
  chip: hygon-7380
  count: {count}
  capacity: {{cpu: "128", memory: 512Gi}}
"""


def fleet_file(folder: Path, nodes: int) -> Path:
    """The sample province's divisions, sites and clusters, with `nodes` nodes in pools."""
    sample = ROOT / "examples" / "guangdong"
    out = folder / "fleet"
    out.mkdir()
    for name in ("divisions.yaml", "sites.yaml", "clusters.yaml"):
        (out / name).write_text((sample / name).read_text(encoding="utf-8"), encoding="utf-8")
    clusters = [
        line.split(":", 1)[1].strip()
        for line in (sample / "clusters.yaml").read_text(encoding="utf-8").splitlines()
        if line.startswith("  name:")
    ]
    per = -(-nodes // len(clusters))
    pools = [POOL.format(i=i, cluster=c, count=per) for i, c in enumerate(clusters)]
    (out / "nodes.yaml").write_text("".join(pools), encoding="utf-8")
    return out


async def measure(address: str, nodes: int) -> str:
    me = psutil.Process()
    started = time.perf_counter()
    app = TongchouApp(HubClient(address), clock=False)
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.query_one("#node-table", FleetTable)
        while not (app.view.ready and table.row_count >= nodes * 0.95):
            await pilot.pause(0.02)
        first_paint = time.perf_counter() - started
        await pilot.press("n")
        keys: list[float] = []
        for key in ["slash", *"gov-a", "enter"]:
            t0 = time.perf_counter()
            await pilot.press(key)
            await pilot.pause()
            keys.append(time.perf_counter() - t0)
        for _ in range(5):
            await pilot.press("backspace")
        for _ in range(20):
            t0 = time.perf_counter()
            await pilot.press("pagedown")
            await pilot.pause()
            keys.append(time.perf_counter() - t0)
        cpu0 = sum(me.cpu_times()[:2])
        t0 = time.perf_counter()
        await pilot.pause(20.0)
        share = (sum(me.cpu_times()[:2]) - cpu0) / (time.perf_counter() - t0)
    keys.sort()
    return (
        f"{nodes:,} nodes streaming: first paint {first_paint:.2f} s; keystroke to frame "
        f"p50 {quantile(keys, 0.5) * 1000:.0f} ms, p95 {quantile(keys, 0.95) * 1000:.0f} ms; "
        f"console CPU {share:.0%} of a core while the fleet streams"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--interval", default="10s")
    args = parser.parse_args()
    print(machine())
    folder = Path(tempfile.mkdtemp(prefix="tongchou-console-bench-"))
    fleet = fleet_file(folder, args.nodes)
    hub = start_hub("--fleet", str(fleet), "--report-interval", args.interval)
    sim = subprocess.Popen(
        [sys.executable, "-m", "tongchou", "simulate", "--fleet", str(fleet), "--hub",
         hub.address, "--limit", str(args.nodes)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ},
    )  # fmt: skip
    try:
        time.sleep(8)
        print(asyncio.run(measure(hub.address, args.nodes)), flush=True)
    finally:
        sim.terminate()
        sim.wait(20)
        hub.stop()


if __name__ == "__main__":
    main()
