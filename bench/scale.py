"""100,000 simulated nodes behind 100 site relays reporting every 10 s: hub CPU, memory, ingest
latency (a batch's send to its acknowledgement) and the console's first paint.

The relays are simulated in driver processes: each opens the relay's one stream
(RelayService.Forward, as `tongchou relay` does) and sends its nodes' reports in batches, so
the hub does exactly the work real relays cause. Bounded in time: --warmup + --window, plus
the console's first paint (at most --paint-limit seconds)."""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import grpc
import psutil

from bench.common import ROOT, HubUnderTest, machine, quantile, start_hub
from console.client import HubClient
from console.documents import load_fleet
from console.model.fleet import Fleet
from console.simulate.nodes import SimNode, sim_node
from tongchou.v1 import relay_pb2

SAMPLE = ROOT / "examples" / "guangdong"
FORWARD = "/tongchou.v1.RelayService/Forward"


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def relay_nodes(relays: range, per_relay: int) -> dict[int, tuple[str, list[SimNode]]]:
    """Each relay's site (the sample's sites in turn) and its `per_relay` cloned nodes."""
    fleet: Fleet = load_fleet([SAMPLE])
    by_site: dict[str, list[str]] = defaultdict(list)
    for name in sorted(fleet.nodes):
        by_site[fleet.clusters[fleet.nodes[name].cluster].site].append(name)
    sites = sorted(by_site)
    out = {}
    for r in relays:
        site = sites[r % len(sites)]
        names = by_site[site]
        nodes = []
        for i in range(per_relay):
            template = fleet.nodes[names[i % len(names)]]
            copy = replace(template, name=f"{template.name}-x{r}-{i}")
            nodes.append(sim_node(fleet, copy, seed=r * per_relay + i))
        out[r] = (site, nodes)
    return out


async def one_relay(
    hub: str, r: int, site: str, nodes: list[SimNode], interval: float, batch_every: float,
    stop: float, latencies: list[tuple[float, float]], counts: dict[str, int],
) -> None:  # fmt: skip
    """One relay's stream: every `batch_every` seconds the reports that fell due since."""
    per_batch = max(1, round(len(nodes) * batch_every / interval))
    sent: dict[int, tuple[float, float]] = {}  # batch → (wall clock, monotonic) when sent
    async with grpc.aio.insecure_channel(hub) as channel:
        call = channel.stream_stream(
            FORWARD,
            request_serializer=lambda b: b,
            response_deserializer=relay_pb2.RelayAck.FromString,
        )()

        async def acks() -> None:
            async for ack in call:
                started = sent.pop(ack.batch, None)
                if started is not None:
                    latencies.append((started[0], time.monotonic() - started[1]))
                counts["accepted"] += ack.accepted
                counts["refused"] += len(ack.refusals)

        reader = asyncio.create_task(acks(), name=f"bench-relay-{r}-acks")
        batch, turn = 0, 0
        next_at = time.monotonic() + (r % 20) * batch_every / 20  # spread the relays out
        while time.monotonic() < stop:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            next_at += batch_every
            batch += 1
            now = time.time()
            head = relay_pb2.RelayBatch(site=site, run_id=f"bench-{r}", batch=batch)
            parts = [head.SerializeToString()]
            for _ in range(per_batch):
                report = nodes[turn % len(nodes)].report(now)
                turn += 1
                parts.append(b"\x22" + _varint(len(report)) + report)
            sent[batch] = (time.time(), time.monotonic())
            await call.write(b"".join(parts))
            counts["sent"] += per_batch
            counts["behind"] = max(counts["behind"], int(time.monotonic() - next_at > batch_every))
        await call.done_writing()
        try:
            await asyncio.wait_for(reader, 30)
        except TimeoutError:  # counted: batches the hub had not answered 30 s after the end
            counts["unanswered"] += len(sent)


async def drive(args: argparse.Namespace) -> dict[str, Any]:
    first, last = (int(x) for x in args.drive.split(":"))
    began = time.monotonic()
    nodes = relay_nodes(range(first, last), args.nodes_per_relay)
    built = sum(len(n) for _s, n in nodes.values())
    print(f"built {built} nodes in {time.monotonic() - began:.0f} s", file=sys.stderr)
    latencies: list[tuple[float, float]] = []
    counts = {"sent": 0, "accepted": 0, "refused": 0, "behind": 0, "unanswered": 0}
    stop = began + args.duration
    await asyncio.gather(
        *(
            one_relay(
                args.hub, r, site, n, args.interval, args.batch_every, stop, latencies, counts
            )
            for r, (site, n) in nodes.items()
        )
    )
    return {**counts, "latencies": latencies, "cpu": sum(psutil.Process().cpu_times()[:2])}


def start_drivers(hub: HubUnderTest, args: argparse.Namespace, workdir: Path) -> list[Any]:
    per = -(-args.relays // args.drivers)
    out = []
    for d in range(args.drivers):
        first, last = d * per, min(args.relays, (d + 1) * per)
        out_file = workdir / f"driver-{d}.json"
        popen = subprocess.Popen(
            [
                sys.executable, __file__, "--drive", f"{first}:{last}", "--hub", hub.address,
                "--nodes-per-relay", str(args.nodes_per_relay), "--interval", str(args.interval),
                "--batch-every", str(args.batch_every), "--out", str(out_file),
                "--duration", str(args.warmup + args.window + args.paint_limit),
            ],
            stderr=(workdir / f"driver-{d}.log").open("wb"),
        )  # fmt: skip
        out.append((popen, out_file))
    return out


async def first_paint(address: str, nodes: int, limit: float) -> str:
    """The console on the loaded hub: first rows, and all rows, on screen."""
    from console.tui.app import TongchouApp
    from console.tui.widgets.fleet_table import FleetTable

    started = time.perf_counter()
    app = TongchouApp(HubClient(address), clock=False)
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.query_one("#node-table", FleetTable)
        first = all_rows = None
        while time.perf_counter() - started < limit:
            if first is None and table.row_count > 0:
                first = time.perf_counter() - started
            if app.view.ready and table.row_count >= nodes * 0.95:
                all_rows = time.perf_counter() - started
                break
            await pilot.pause(0.05)
    shown = f"{first:.1f} s" if first is not None else f"not within {limit:.0f} s"
    every = f"{all_rows:.1f} s" if all_rows is not None else f"not within {limit:.0f} s"
    return f"console: first rows on screen {shown}, all {nodes:,} rows {every}"


async def run(args: argparse.Namespace) -> None:
    nodes = args.relays * args.nodes_per_relay
    want = nodes / args.interval
    hub = start_hub(
        "--fleet", str(SAMPLE), "--report-interval", f"{args.interval}s",
        "--max-report-rate", "1000000", "--lost-after", "600s",
    )  # fmt: skip
    workdir = Path(tempfile.mkdtemp(prefix="tongchou-bench-scale-"))
    drivers = start_drivers(hub, args, workdir)
    try:
        await asyncio.sleep(args.warmup)
        reports0, cpu0 = hub.counter("tongchou_hub_reports_received_total"), hub.cpu_seconds()
        rss = []
        window = (time.time(), time.time() + args.window)
        started = time.monotonic()
        while time.monotonic() - started < args.window:
            await asyncio.sleep(1.0)
            rss.append(hub.process.memory_info().rss)
        elapsed = time.monotonic() - started
        reports = hub.counter("tongchou_hub_reports_received_total") - reports0
        cpu = hub.cpu_seconds() - cpu0
        async with HubClient(hub.address) as client:
            live = (await client.fleet_summary()).totals.nodes_ready
        print(
            f"{args.relays} relays x {args.nodes_per_relay:,} nodes = {nodes:,} nodes at "
            f"{args.interval:g} s (asked {want:,.0f} reports/s); {args.drivers} driver processes"
        )
        print(
            f"  hub took {reports / elapsed:,.0f} reports/s, CPU {cpu / elapsed:.1%} of a core, "
            f"{cpu / reports * 1000 if reports else 0:.3f} ms per node-report; "
            f"RSS {max(rss) / 2**20:,.0f} MiB (peak in the window); {live:,} nodes ready"
        )
        if not args.no_console:
            print("  " + await first_paint(hub.address, nodes, args.paint_limit))
    finally:
        results = []
        for popen, out_file in drivers:
            popen.wait(args.paint_limit + 120)
            if out_file.exists():
                results.append(json.loads(out_file.read_text()))
        hub.stop()
    pairs = [(at, x) for r in results for at, x in r["latencies"]]
    sent = sum(r["sent"] for r in results)
    inside = sorted(x for at, x in pairs if window[0] <= at < window[1])
    after = sorted(x for at, x in pairs if at >= window[1])
    for name, lat in (("in the window", inside), ("while the console loads", after)):
        if lat:
            print(
                f"  ingest latency {name} (batch sent → acknowledged): p50"
                f" {quantile(lat, 0.5) * 1000:.0f} ms, p95 {quantile(lat, 0.95) * 1000:.0f} ms,"
                f" p99 {quantile(lat, 0.99) * 1000:.0f} ms"
            )
    if pairs:
        print(
            f"  {sent:,} reports sent, {sum(r['accepted'] for r in results):,} accepted,"
            f" {sum(r['refused'] for r in results):,} refused,"
            f" {sum(r['unanswered'] for r in results):,} batches unanswered; drivers fell behind:"
            f" {'yes' if any(r['behind'] for r in results) else 'no'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--relays", type=int, default=100)
    parser.add_argument("--nodes-per-relay", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between a node's")
    parser.add_argument("--batch-every", type=float, default=0.5, help="a relay's batch period")
    parser.add_argument("--drivers", type=int, default=2, help="processes simulating relays")
    parser.add_argument("--warmup", type=float, default=30.0)
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--paint-limit", type=float, default=120.0)
    parser.add_argument("--no-console", action="store_true")
    parser.add_argument("--drive", help=argparse.SUPPRESS)  # first:last relay, in a driver
    parser.add_argument("--hub", help=argparse.SUPPRESS)
    parser.add_argument("--duration", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        Path(args.out).write_text(json.dumps(asyncio.run(drive(args))))
        return
    print(machine())
    print("the hub, the driver processes and the console share this machine")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
