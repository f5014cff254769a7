"""A probe agent's ack latency (p50/p99/max) on a real hub while the hub is abused in turn.

Each abuse runs for a window while probe agents (simulated, each on its own gRPC stream)
report every second; the figures are the time from a report written to its ack read. A new
node joins every second meanwhile; `1st ack` is the slowest first acknowledgement of one. The
abuses: alias bombs sent to CheckPolicies, SubmitWorkload and RunPlan; a poison workload
(16Ei of memory) submitted again and again; seven concurrent plans; thousands of idle TCP
connections; streams that never send a report; and a reconnect flood (a new connection and
stream per report). The hub runs with --insecure, so API callers are unscoped.

    python bench/abuse.py [--window 15] [--probes 20] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import grpc

from bench.common import ROOT, HubUnderTest, machine, quantile, start_hub
from console.client import HubClient
from console.documents import load_fleet
from console.simulate.nodes import SimNode, sim_node
from console.simulate.runner import CONNECT, Simulator
from console.store.audit import AuditEntry
from console.store.audit_writer import open_log
from tongchou.v1 import agent_pb2, security_pb2, security_pb2_grpc

SAMPLE = ROOT / "examples" / "guangdong"
Abuse = Callable[[HubUnderTest, asyncio.Event], Awaitable[None]]


def bomb(levels: int, kind: str) -> str:
    """Nested anchors, each level nine aliases of the one before, in a document of `kind`."""
    text = f"apiVersion: tongchou.io/v1\nkind: {kind}\nmetadata: {{name: bomb}}\nspec:\n"
    text += '  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for i in range(1, levels + 1):
        text += f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n"
    return text


POISON = """apiVersion: tongchou.io/v1
kind: Workload
metadata: {name: poison}
spec:
  owner: "440100"
  replicas: 2
  image: reg/app:1
  mlpsLevel: 3
  resources: {cpu: 1, memory: 16Ei}
"""


def probes(count: int, prefix: str = "probe") -> list[SimNode]:
    fleet = load_fleet([SAMPLE])
    templates = [fleet.nodes[name] for name in sorted(fleet.nodes)]
    return [
        sim_node(fleet, replace(templates[i % len(templates)], name=f"{prefix}-{i}"))
        for i in range(count)
    ]


async def _repeat(stop: asyncio.Event, call: Callable[[], Awaitable[Any]]) -> None:
    while not stop.is_set():
        with contextlib.suppress(grpc.aio.AioRpcError, asyncio.TimeoutError):
            await call()


async def _callers(
    hub: HubUnderTest, stop: asyncio.Event, n: int, call: Callable[[HubClient], Awaitable[Any]]
) -> None:
    async with HubClient(hub.address) as client:
        await asyncio.gather(*(_repeat(stop, lambda: call(client)) for _ in range(n)))


async def _plan(client: HubClient, text: str) -> None:
    async for _event in client.run_plan(text, time_limit=20):
        pass


def bomb_check(hub: HubUnderTest, stop: asyncio.Event) -> Awaitable[None]:
    text = bomb(7, "PlacementPolicy")
    return _callers(hub, stop, 1, lambda c: c.check_policies(text, timeout=60))


def bomb_submit(hub: HubUnderTest, stop: asyncio.Event) -> Awaitable[None]:
    text = bomb(7, "Workload")
    return _callers(hub, stop, 1, lambda c: c.submit_workload(text, timeout=60))


def bomb_plan(hub: HubUnderTest, stop: asyncio.Event) -> Awaitable[None]:
    text = bomb(7, "Demand")
    return _callers(hub, stop, 1, lambda c: _plan(c, text))


def poison_submit(hub: HubUnderTest, stop: asyncio.Event) -> Awaitable[None]:
    return _callers(hub, stop, 2, lambda c: c.submit_workload(POISON, timeout=60))


def seven_plans(hub: HubUnderTest, stop: asyncio.Event) -> Awaitable[None]:
    files = sorted((SAMPLE / "planning").glob("*.yaml"))
    text = "---\n".join(f.read_text(encoding="utf-8") for f in files)
    return _callers(hub, stop, 7, lambda c: _plan(c, text))


async def idle_connections(hub: HubUnderTest, stop: asyncio.Event, count: int = 2000) -> None:
    """TCP connections that send nothing at all (not even the HTTP/2 preface)."""
    held: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                sock.connect(("127.0.0.1", hub.port))
            held.append(sock)
            if len(held) % 200 == 0:
                await asyncio.sleep(0)
        await stop.wait()
    finally:
        for sock in held:
            sock.close()


async def silent_streams(hub: HubUnderTest, stop: asyncio.Event, count: int = 500) -> None:
    """Agent streams opened and never given a report."""
    async with grpc.aio.insecure_channel(hub.address) as channel:
        connect: Any = channel.stream_stream(
            CONNECT, request_serializer=None, response_deserializer=agent_pb2.ReportAck.FromString
        )
        calls = [connect() for _ in range(count)]
        await stop.wait()
        for call in calls:
            call.cancel()


async def reconnect_flood(hub: HubUnderTest, stop: asyncio.Event, workers: int = 8) -> None:
    """One node's identity, a new connection and stream for every report."""
    [node] = probes(1, "flood")

    async def worker() -> None:
        while not stop.is_set():
            async with grpc.aio.insecure_channel(hub.address) as channel:
                connect: Any = channel.stream_stream(
                    CONNECT,
                    request_serializer=None,
                    response_deserializer=agent_pb2.ReportAck.FromString,
                )
                call = connect()
                with contextlib.suppress(grpc.aio.AioRpcError, asyncio.InvalidStateError):
                    await call.write(node.report())
                    await asyncio.wait_for(call.read(), 10)
                call.cancel()

    await asyncio.gather(*(worker() for _ in range(workers)))


async def store_locked(hub: HubUnderTest, stop: asyncio.Event) -> None:
    """The store's file frozen for writes (another process holds its write lock, as a stuck
    disk would) while two callers submit a valid workload over and over: each submission
    waits out the hub's store bound and is answered UNAVAILABLE, never on the event loop."""
    text = (SAMPLE / "workloads" / "shared-platforms.yaml").read_text(encoding="utf-8")
    first = text.split("\n---")[0]
    lock = sqlite3.connect(hub.workdir / "hub.db", timeout=30, isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")
        await _callers(hub, stop, 2, lambda c: c.submit_workload(first, timeout=60))
    finally:
        lock.execute("ROLLBACK")
        lock.close()


async def verify_audit(hub: HubUnderTest, stop: asyncio.Event) -> None:
    """VerifyAudit over and over on a long audit log (`--audit-records` written before the hub
    started): the chain walk runs on a worker thread, not the event loop."""
    async with grpc.aio.insecure_channel(hub.address) as channel:
        verify = security_pb2_grpc.AuditServiceStub(channel).VerifyAudit
        await _repeat(stop, lambda: verify(security_pb2.VerifyAuditRequest(), timeout=120))


def fill_audit(workdir: Path, records: int) -> None:
    """An audit log of `records` records in the store the hub will open (its key beside it)."""
    log = open_log(workdir / "hub.db", create=True)
    entry = AuditEntry("bench", "workload.submit", "workload/bench", "ok", role="operator")
    for start in range(0, records, 1000):
        log.append_many([entry] * min(1000, records - start))
    log.close()


ABUSES: dict[str, Abuse | None] = {
    "none": None,
    "bomb-check-policies": bomb_check,
    "bomb-submit-workload": bomb_submit,
    "bomb-run-plan": bomb_plan,
    "poison-workload": poison_submit,
    "seven-plans": seven_plans,
    "idle-tcp-2000": idle_connections,
    "silent-streams-500": silent_streams,
    "reconnect-flood": reconnect_flood,
    "store-locked": store_locked,
    "verify-audit": verify_audit,
}


async def newcomers(hub: HubUnderTest, stop: asyncio.Event, out: list[float]) -> None:
    """A new node joins every second: the time from its first report to its ack (the hub
    acknowledges a registration only once it is written to the store)."""
    fleet_nodes = probes(200, f"new-{time.monotonic_ns()}")
    for node in fleet_nodes:
        if stop.is_set():
            return
        async with grpc.aio.insecure_channel(hub.address) as channel:
            connect: Any = channel.stream_stream(
                CONNECT,
                request_serializer=None,
                response_deserializer=agent_pb2.ReportAck.FromString,
            )
            call = connect()
            started = time.monotonic()
            with contextlib.suppress(grpc.aio.AioRpcError, asyncio.InvalidStateError):
                await call.write(node.report())
                await asyncio.wait_for(call.read(), 120)
                out.append(time.monotonic() - started)
            call.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def _run(abuse: Abuse, hub: HubUnderTest, stop: asyncio.Event) -> None:
    await abuse(hub, stop)


async def measure(hub: HubUnderTest, names: list[str], window: float, count: int) -> list[str]:
    sim = Simulator(hub.address, probes(count), interval=1.0, ramp_seconds=1.0)
    runner = asyncio.create_task(sim.run(), name="bench-probes")
    await asyncio.sleep(3.0)
    rows = []
    for name in names:
        abuse = ABUSES[name]
        stop = asyncio.Event()
        task: asyncio.Future[None] | None = None
        if abuse is not None:
            task = asyncio.create_task(_run(abuse, hub, stop), name=f"abuse-{name}")
        await asyncio.sleep(1.0)  # let the abuse start before measuring
        sim.stats.latencies.clear()
        sim.stats.keep_latencies = True
        acks0 = sim.stats.acks
        joined: list[float] = []
        joining = asyncio.create_task(newcomers(hub, stop, joined), name="bench-newcomers")
        await asyncio.sleep(window)
        lat = sorted(sim.stats.latencies)
        sim.stats.keep_latencies = False
        acks = sim.stats.acks - acks0
        stop.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(joining, 130)
        if task is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(task, 90)
        p50, p99 = quantile(lat, 0.5), quantile(lat, 0.99)
        worst = lat[-1] if lat else float("nan")
        rss = hub.process.memory_info().rss / 2**20
        first = max(joined) if joined else float("nan")
        rows.append(
            f"{name:<22} {acks:>6} {acks / window:>7.1f} {p50 * 1000:>9.1f} "
            f"{p99 * 1000:>9.1f} {worst * 1000:>9.1f} {len(joined):>4} {first * 1000:>9.1f} "
            f"{rss:>8,.0f}"
        )
        print(rows[-1], flush=True)
        await asyncio.sleep(2.0)  # the hub settles before the next abuse
    sim.stop.set()
    await runner
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=15.0, help="seconds measured per abuse")
    parser.add_argument("--probes", type=int, default=20, help="probe agents, one report/s each")
    parser.add_argument("--only", nargs="*", choices=sorted(ABUSES), help="these abuses only")
    parser.add_argument(
        "--audit-records", type=int, default=0, help="audit records written before the hub starts"
    )
    args = parser.parse_args()
    names = args.only or list(ABUSES)
    print(machine())
    print(f"{args.probes} probe agents reporting every second; {args.window:g} s per abuse")
    workdir = Path(tempfile.mkdtemp(prefix="tongchou-bench-"))
    if args.audit_records:
        fill_audit(workdir, args.audit_records)
    hub = start_hub("--fleet", str(SAMPLE), "--policies", str(ROOT / "policies"), workdir=workdir)
    started = time.monotonic()
    try:
        print(
            f"{'abuse':<22} {'acks':>6} {'acks/s':>7} {'p50 ms':>9} {'p99 ms':>9} "
            f"{'max ms':>9} {'new':>4} {'1st ack':>9} {'rss MiB':>8}"
        )
        asyncio.run(measure(hub, names, args.window, args.probes))
    finally:
        hub.stop()
    print(f"total {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
