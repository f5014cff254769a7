"""The stores side by side: flush cost per 1,000 heartbeats (SQLite vs PostgreSQL), reports/s
and hub CPU per report for one hub on SQLite, one on PostgreSQL and two replicas on PostgreSQL,
and the time a waiting replica takes to lead after the leader's process is killed (p50/p99)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, HubUnderTest, machine, quantile, start_hub
from bench.ingest import fleet_nodes
from console.simulate.runner import Simulator
from console.store.base import InventoryStore, StoredNode
from console.store.leader import LeaderElection
from console.store.postgres import PostgresStore, conninfo
from console.store.sqlite import SqliteStore
from tests.pgserver import PostgresServer, find_bindir


def heartbeat_rows(count: int, round_: int) -> list[StoredNode]:
    """`count` nodes' rows as a full flush writes them: newest usage and last-seen time."""
    return [
        StoredNode(
            name=f"gd-node-{i:05}",
            division="440106",
            site="gz-dc1",
            cluster=f"gz-{i % 20}",
            state="ready",
            first_seen=1.0,
            last_seen=1000.0 + round_,
            run_id="run-1",
            sequence=round_,
            interval=10.0,
            identity=b"\x0a\x10" + bytes(60),
            capacity=b"\x08\x40" + bytes(40),
            usage=bytes([round_ % 256]) * 48,
            boot_time=5.0,
        )
        for i in range(count)
    ]


def flush_cost(store: InventoryStore, nodes: int, rounds: int) -> list[float]:
    """Seconds per flush of `nodes` heartbeats (the first, inserting, round not counted)."""
    store.write_batch(heartbeat_rows(nodes, 0), [])
    times = []
    for r in range(1, rounds + 1):
        rows = heartbeat_rows(nodes, r)
        start = time.perf_counter()
        store.write_batch(rows, [])
        times.append(time.perf_counter() - start)
    return times


CONTENDER = """
import asyncio, sys
from console.store.leader import LeaderElection
say = lambda s: print("leading" if s.leading else "not", flush=True)
asyncio.run(LeaderElection(sys.argv[1], "victim", retry=float(sys.argv[2]), on_change=say)
            .run(asyncio.Event()))
"""


async def takeover(url: str, retry: float) -> float:
    """Seconds from SIGKILL of a leading process to a waiting replica's lead."""
    victim = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CONTENDER,
        url,
        str(retry),
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert victim.stdout is not None
    try:
        if (await victim.stdout.readline()).strip() != b"leading":
            raise RuntimeError("the first contender did not lead")
        led = asyncio.Event()
        waiting = LeaderElection(
            url, "survivor", retry=retry, on_change=lambda s: led.set() if s.leading else None
        )
        stop = asyncio.Event()
        task = asyncio.create_task(waiting.run(stop), name="bench-survivor")
        await asyncio.sleep(retry * 3 + random.uniform(0, retry))  # any phase of its retry
        victim.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        await led.wait()
        took = waiting.seat.since - killed
        stop.set()
        await task
        return took
    finally:
        if victim.returncode is None:
            victim.kill()
        await victim.wait()


async def throughput(
    hubs: list[HubUnderTest], agents: int, interval: float, warmup: float, window: float
) -> str:
    """Reports/s accepted by all `hubs` together, and their CPU per report, under `agents`
    simulated agents spread over them."""
    address = ",".join(h.address for h in hubs)
    sim = Simulator(address, fleet_nodes(agents), interval=interval, ramp_seconds=interval)
    task = asyncio.create_task(sim.run(), name="bench-simulator")
    await asyncio.sleep(warmup)
    reports0 = sum(h.counter("tongchou_hub_reports_received_total") for h in hubs)
    cpu0 = sum(h.cpu_seconds() for h in hubs)
    started = time.monotonic()
    await asyncio.sleep(window)
    elapsed = time.monotonic() - started
    reports = sum(h.counter("tongchou_hub_reports_received_total") for h in hubs) - reports0
    cpu = sum(h.cpu_seconds() for h in hubs) - cpu0
    sim.stop.set()
    await task
    per_k = cpu / reports * 1e6 if reports else float("nan")
    return (
        f"{reports / elapsed:8.0f} reports/s, hubs' CPU {cpu / elapsed:5.1%} of a core,"
        f" {per_k:6.0f} ms per 1,000 reports"
    )


def replicas_figures(url: str, password: str, args: argparse.Namespace) -> None:
    os.environ["TONGCHOU_STORE_PASSWORD"] = password
    common = ("--report-interval", f"{args.interval}s", "--max-report-rate", "1000000")
    setups: list[tuple[str, list[tuple[str, ...]]]] = [
        ("one hub, SQLite", [common]),
        ("one hub, PostgreSQL", [(*common, "--store", url)]),
        (
            "two replicas, PostgreSQL",
            [(*common, "--store", url, "--replica-name", f"r{i}") for i in range(2)],
        ),
    ]
    print(f"{args.agents} simulated agents every {args.interval:g} s (simulator on this machine):")
    for name, flags in setups:
        hubs = [start_hub(*f) for f in flags]
        try:
            figures = asyncio.run(
                throughput(hubs, args.agents, args.interval, args.warmup, args.window)
            )
            print(f"  {name:<26} {figures}", flush=True)
        finally:
            for hub in hubs:
                hub.stop()


def line(name: str, times: list[float], per: Callable[[float], float] = lambda t: t) -> str:
    ms = sorted(per(t) * 1000 for t in times)
    return (
        f"{name:<34} p50 {statistics.median(ms):8.1f} ms  p99 {quantile(ms, 0.99):8.1f} ms"
        f"  (n={len(ms)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=10_000, help="heartbeats per flush")
    parser.add_argument("--rounds", type=int, default=10, help="flushes timed per store")
    parser.add_argument("--kills", type=int, default=20, help="leader kills timed")
    parser.add_argument("--retry", type=float, default=1.0, help="the election's retry (s)")
    parser.add_argument("--agents", type=int, default=2000, help="agents for the throughput runs")
    parser.add_argument("--interval", type=float, default=2.0, help="their report interval (s)")
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--window", type=float, default=15.0)
    args = parser.parse_args()
    bindir = find_bindir()
    if bindir is None:
        print("bench/store.py: PostgreSQL is not installed (apt-get install postgresql)")
        return 1
    print(machine())
    logging.basicConfig(level=logging.ERROR)
    server = PostgresServer(bindir, fsync=True)
    try:
        server.start()
        url = server.url(server.create_database())
        per_k: Callable[[float], float] = lambda t: t * 1000 / args.nodes  # noqa: E731
        with tempfile.TemporaryDirectory() as tmp:
            sqlite = SqliteStore(Path(tmp) / "hub.db")
            lite = flush_cost(sqlite, args.nodes, args.rounds)
            sqlite.close()
        pg = PostgresStore(url, password=server.password)
        post = flush_cost(pg, args.nodes, args.rounds)
        pg.close()
        print(f"flush of {args.nodes} heartbeats, cost per 1,000 (one transaction per flush):")
        print(line("  SQLite (WAL, synchronous=NORMAL)", lite, per_k))
        print(line("  PostgreSQL (fsync on, Unix socket)", post, per_k))
        replicas_figures(server.url(server.create_database()), server.password, args)
        info = conninfo(url, server.password)
        kills = [asyncio.run(takeover(info, args.retry)) for _ in range(args.kills)]
        print(f"leader takeover after kill -9 of the leader's process (retry {args.retry:g} s):")
        print(line("  lock free to new leader", kills))
    finally:
        server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
