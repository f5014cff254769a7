"""`tongchou hub`: flags, start-up checks, signals, and the hub's main."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from console.documents import load_documents, policies_of
from console.executor.cli_options import add_executor_arguments, executor_config
from console.hub.server import Hub, HubConfig
from console.model.fleet import Fleet
from console.model.workload import PlacementPolicy
from console.security.hub_flags import audit_settings, server_tls
from console.store import SqliteStore, StoreError
from tongchou.durations import parse_duration
from tongchou.logfile import log_to_file

log = logging.getLogger("tongchou.hub")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--listen", default="0.0.0.0:7470", help="gRPC host:port (default 0.0.0.0:7470)"
    )
    parser.add_argument(
        "--metrics-listen", default="0.0.0.0:9470", help="/metrics host:port; empty to disable"
    )
    parser.add_argument(
        "--store", type=Path, default=Path("tongchou-hub.db"), help="SQLite inventory file"
    )
    parser.add_argument(
        "--fleet", type=Path, action="append", default=[], help="fleet documents (file or folder)"
    )
    parser.add_argument(
        "--policies",
        type=Path,
        action="append",
        default=[],
        help="PlacementPolicy files or folders (e.g. policies/)",
    )
    parser.add_argument("--report-interval", default="10s", help="base report interval (10s)")
    parser.add_argument(
        "--max-report-rate",
        type=float,
        default=2000.0,
        help="fleet-wide reports/s ceiling; the interval stretches to stay under it",
    )
    parser.add_argument("--lost-after", default="120s", help="silence after which a node is lost")
    parser.add_argument(
        "--flush-interval", default="1s", help="how often changes (new nodes, states) are written"
    )
    parser.add_argument(
        "--heartbeat-every",
        default="30s",
        help="how often each node's newest usage and last-seen time are written (30s)",
    )
    parser.add_argument(
        "--ready-file", type=Path, help="write the bound ports here as JSON once serving"
    )
    parser.add_argument(
        "--log-level", default="info", choices=("debug", "info", "warning", "error")
    )
    parser.add_argument(
        "--log-file",
        type=Path,
        help="also log to this file, rotated at 10 MiB, 5 kept (e.g. /var/lib/tongchou/hub.log)",
    )
    from console.security.hub_flags import add_arguments as add_security_arguments

    add_security_arguments(parser)
    add_executor_arguments(parser)


def load_policies(paths: list[Path]) -> tuple[PlacementPolicy, ...]:
    if not paths:
        return ()
    documents = load_documents(paths)
    others = sorted({d.kind for d in documents if d.kind != "PlacementPolicy"})
    if others:
        raise ValueError(f"--policies holds {', '.join(others)} documents, not only policies")
    return tuple(policies_of(documents))


def config_from(args: argparse.Namespace) -> HubConfig:
    if args.max_report_rate <= 0:
        raise ValueError(f"--max-report-rate must be positive, got {args.max_report_rate}")
    return HubConfig(
        listen=args.listen,
        metrics_listen=args.metrics_listen,
        report_interval=parse_duration(args.report_interval, "--report-interval"),
        max_report_rate=args.max_report_rate,
        lost_after=parse_duration(args.lost_after, "--lost-after"),
        flush_interval=parse_duration(args.flush_interval, "--flush-interval"),
        heartbeat_every=parse_duration(args.heartbeat_every, "--heartbeat-every"),
        ready_file=args.ready_file,
        policies=load_policies(args.policies),
        tls=server_tls(args),
        **audit_settings(args),
        executor=executor_config(args),
    )


def load_fleet(paths: list[Path]) -> Fleet:
    if not paths:
        return Fleet()
    from console.documents import load_fleet as load

    return load(paths)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.log_file is not None:
        try:
            log_to_file(args.log_file, args.log_level.upper())
        except OSError as err:
            print(f"tongchou hub: cannot write --log-file {args.log_file}: {err}", file=sys.stderr)
            return 2
    from console.documents import LoadError

    try:
        config = config_from(args)
        fleet = load_fleet(args.fleet)
    except ValueError as err:
        print(f"tongchou hub: {err}", file=sys.stderr)
        return 2
    except LoadError as err:
        print(f"tongchou hub: the documents are invalid:\n{err}", file=sys.stderr)
        return 2
    try:
        store = SqliteStore(args.store)
    except StoreError as err:
        print(f"tongchou hub: {err}", file=sys.stderr)
        return 2
    return asyncio.run(_main(config, store, fleet))


async def _main(config: HubConfig, store: SqliteStore, fleet: Fleet) -> int:
    hub = Hub(config, store)
    hub.load_fleet(fleet)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, hub.stop.set)
    try:
        await hub.start()
    except (OSError, RuntimeError) as err:
        print(f"tongchou hub: {err}", file=sys.stderr)
        return 2
    await hub.serve()
    return 0
