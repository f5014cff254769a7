"""`tongchou simulate`: every node of a fleet file as a simulated agent against a hub."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from pathlib import Path

import grpc

from console.documents import LoadError, load_fleet
from console.security.pki import PkiError
from console.security.tls import add_client_arguments, client_credentials
from console.simulate.nodes import SimNode, sim_node
from console.simulate.runner import Simulator
from tongchou import loops
from tongchou.climsg import say
from tongchou.durations import DurationError, parse_duration
from tongchou.opsmsg import error


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fleet", type=Path, action="append", required=True, help="fleet file or folder"
    )
    parser.add_argument("--hub", default="127.0.0.1:7470", help="hub address (127.0.0.1:7470)")
    parser.add_argument("--limit", type=int, default=0, help="simulate only the first N nodes")
    parser.add_argument("--interval", help="report interval; default: what the hub asks")
    parser.add_argument("--duration", help="stop after this long (default: until interrupted)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the usage curves")
    parser.add_argument(
        "--log-level", default="warning", choices=("debug", "info", "warning", "error")
    )
    add_client_arguments(parser)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        fleet = load_fleet(args.fleet)
        interval = parse_duration(args.interval, "--interval") if args.interval else None
        duration = (
            parse_duration(args.duration, "--duration", high=10**7) if args.duration else None
        )
    except LoadError as err:
        what = say(args.lang, "fleet_invalid", errors=err.text(args.lang))
        print(f"tongchou simulate: {what}", file=sys.stderr)
        return 2
    except DurationError as err:
        print(f"tongchou simulate: {error(args.lang, err)}", file=sys.stderr)
        return 2
    if args.limit < 0:
        print(f"tongchou simulate: {say(args.lang, 'simulate_negative_limit')}", file=sys.stderr)
        return 2
    names = sorted(fleet.nodes)[: args.limit or None]
    nodes = [sim_node(fleet, fleet.nodes[name], seed=args.seed) for name in names]
    if not nodes:
        print(f"tongchou simulate: {say(args.lang, 'simulate_no_nodes')}", file=sys.stderr)
        return 2
    try:
        credentials = client_credentials(args)
    except PkiError as err:
        print(f"tongchou simulate: {error(args.lang, err)}", file=sys.stderr)
        return 2
    return asyncio.run(_main(args.hub, nodes, interval, duration, credentials, args.lang))


async def _main(
    hub: str,
    nodes: list[SimNode],
    interval: float | None,
    duration: float | None,
    credentials: grpc.ChannelCredentials | None = None,
    lang: str = "en",
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sim = Simulator(hub, nodes, interval=interval, stop=stop, credentials=credentials)
    task = asyncio.create_task(sim.run(), name="simulator")
    started = time.monotonic()
    print(say(lang, "simulate_started", n=len(nodes), hub=hub), file=sys.stderr)

    def report() -> None:
        s = sim.stats
        elapsed = f"{time.monotonic() - started:6.0f}"
        line = say(
            lang, "simulate_stats", elapsed=elapsed, connected=s.connected, n=len(nodes),
            reports=s.reports, acks=s.acks, rejected=s.rejected, failures=s.failures,
        )  # fmt: skip
        print(line, file=sys.stderr)
        if duration is not None and time.monotonic() - started >= duration:
            stop.set()

    await loops.every(stop, 5.0, report, wait_first=True)
    await task
    return 0
