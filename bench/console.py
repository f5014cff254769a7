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
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil
from textual import events
from textual.widgets import Input

from bench.common import ROOT, machine, quantile, start_hub
from console.client import HubClient
from console.tui.app import TongchouApp
from console.tui.panes.nodes import FILTER_DELAY
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


class Frames:
    """Records when the app hands each frame to the terminal driver."""

    def __init__(self, app: TongchouApp) -> None:
        self.times: list[float] = []
        display = app._display

        def timed(screen: Any, renderable: Any) -> None:
            if renderable is not None:
                self.times.append(time.perf_counter())
            display(screen, renderable)

        app._display = timed  # type: ignore[method-assign]

    async def after(self, started: float, done: Callable[[], bool], limit: float = 30.0) -> float:
        """Seconds from `started` to the first frame drawn once `done()` holds."""
        deadline = time.perf_counter() + limit
        while not done():
            if time.perf_counter() > deadline:
                raise TimeoutError("the key had no effect")
            await asyncio.sleep(0.001)
        seen = time.perf_counter()
        while not self.times or self.times[-1] < seen:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"no frame was drawn ({len(self.times)} so far)")
            await asyncio.sleep(0.001)
        return next(t for t in self.times if t >= seen) - started


async def key(app: TongchouApp, frames: Frames, name: str, done: Callable[[], bool]) -> float:
    """Sends one key as the terminal would; returns the keystroke-to-frame time."""
    char = name if len(name) == 1 else None
    started = time.perf_counter()
    assert app._driver is not None
    app._driver.send_message(events.Key(name, char))
    return await frames.after(started, done)


PAGES = 60
"""Page-down keystrokes measured (about 6 s of streaming updates around them)."""


def progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def shows(box: Input, value: str) -> Callable[[], bool]:
    return lambda: box.value == value


def moved(table: FleetTable, row: int) -> Callable[[], bool]:
    return lambda: table.cursor_row != row


async def measure(address: str, nodes: int) -> str:
    me = psutil.Process()
    started = time.perf_counter()
    app = TongchouApp(HubClient(address), clock=False)
    async with app.run_test(size=(160, 50)) as pilot:
        frames = Frames(app)
        table = app.query_one("#node-table", FleetTable)
        first_rows = await frames.after(started, lambda: table.row_count > 0, limit=120)
        progress(f"first rows on screen after {first_rows:.2f} s")
        while not (app.view.ready and table.row_count >= nodes * 0.95):
            await pilot.pause(0.02)
            if time.perf_counter() - started > 120:
                raise TimeoutError(f"only {table.row_count} of {nodes} rows after two minutes")
        await frames.after(started, lambda: True)
        first_paint = time.perf_counter() - started
        progress(f"first paint after {first_paint:.2f} s")
        await pilot.press("n")
        await pilot.pause(0.5)
        box = app.query_one("#node-filter", Input)
        typing: list[float] = []
        await key(app, frames, "slash", lambda: app.focused is box)
        for char in "gov-a":
            typing.append(await key(app, frames, char, shows(box, box.value + char)))
        progress(f"typed a filter: {[round(t * 1000) for t in typing]} ms")
        typed = time.perf_counter()
        applied = await frames.after(typed, lambda: 0 < table.row_count < nodes * 0.95)
        for _ in "gov-a":
            await key(app, frames, "backspace", shows(box, box.value[:-1]))
        await frames.after(time.perf_counter(), lambda: table.row_count >= nodes * 0.95)
        await key(app, frames, "enter", lambda: app.focused is not box)
        paging: list[float] = []
        for _ in range(PAGES):
            before = table.cursor_row
            paging.append(await key(app, frames, "pagedown", moved(table, before)))
            await asyncio.sleep(0.05)
        progress(f"paged down: {[round(t * 1000) for t in paging]} ms")
        cpu0 = sum(me.cpu_times()[:2])
        t0 = time.perf_counter()
        await pilot.pause(20.0)
        share = (sum(me.cpu_times()[:2]) - cpu0) / (time.perf_counter() - t0)
    keys = sorted(typing + paging)

    def ms(values: list[float], q: float) -> str:
        return f"{quantile(sorted(values), q) * 1000:.0f} ms"

    return (
        f"{nodes:,} nodes streaming: first rows on screen {first_rows:.2f} s, all rows "
        f"{first_paint:.2f} s; keystroke to frame "
        f"p50 {ms(keys, 0.5)}, p95 {ms(keys, 0.95)} (typing p95 {ms(typing, 0.95)}, "
        f"page down p95 {ms(paging, 0.95)}); filter applied {applied * 1000:.0f} ms after the "
        f"last key (it waits for a {FILTER_DELAY * 1000:.0f} ms pause in typing); "
        f"console CPU {share:.0%} of a core while the fleet streams"
    )


async def connected(address: str, nodes: int) -> None:
    """Waits until the simulated nodes report to the hub."""
    started = time.perf_counter()
    async with HubClient(address) as client:
        while True:
            ready = (await client.fleet_summary()).totals.nodes_ready
            if ready >= nodes * 0.95:
                break
            if time.perf_counter() - started > 300:
                raise TimeoutError(f"only {ready} of {nodes} simulated nodes after five minutes")
            await asyncio.sleep(1)
    progress(f"{ready:,} nodes reporting after {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--interval", default="10s")
    parser.add_argument(
        "--equal-priority",
        action="store_true",
        help="leave the hub and the simulator at the console's CPU priority (by default they "
        "run niced, standing in for the other machines they run on in a province)",
    )
    args = parser.parse_args()
    print(machine())
    folder = Path(tempfile.mkdtemp(prefix="tongchou-console-bench-"))
    fleet = fleet_file(folder, args.nodes)
    hub = start_hub("--fleet", str(fleet), "--report-interval", args.interval)
    sim = subprocess.Popen(
        [sys.executable, "-m", "tongchou", "simulate", "--fleet", str(fleet), "--hub",
         hub.address, "--limit", str(args.nodes), "--insecure"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ},
    )  # fmt: skip
    if not args.equal_priority:
        for pid in (hub.popen.pid, sim.pid):
            psutil.Process(pid).nice(10)
    try:
        asyncio.run(connected(hub.address, args.nodes))
        print(asyncio.run(measure(hub.address, args.nodes)), flush=True)
    finally:
        sim.terminate()
        sim.wait(20)
        hub.stop()


if __name__ == "__main__":
    main()
