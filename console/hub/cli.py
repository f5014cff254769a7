"""`tongchou hub`: flags, start-up checks, signals, and the hub's main."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from console.documents import load_documents, policies_of
from console.documents.builtin import UNSAFE_FLAG, UNSAFE_HELP, warnings_of, with_guardrails
from console.executor.cli_options import add_executor_arguments, executor_config
from console.hub.config import HubConfig
from console.hub.control.replicas import ReplicaSettings
from console.hub.fleet.hygiene import Hygiene
from console.hub.rollup import cli_options as rollup_options
from console.hub.server import Hub
from console.model.fleet import Fleet
from console.model.workload import PlacementPolicy
from console.security.hub_flags import audit_settings, server_tls
from console.store import InventoryStore, StoreError
from console.store.cli_options import add_store_arguments, store_from_args
from tongchou.climsg import say
from tongchou.durations import parse_duration
from tongchou.logfile import log_to_file
from tongchou.opsmsg import error

log = logging.getLogger("tongchou.hub")
_DEFAULT_LIMITS = Hygiene()


def _add_replica_arguments(parser: argparse.ArgumentParser) -> None:
    """Hub replicas on a PostgreSQL store: this one's name, the election, the reading."""
    parser.add_argument(
        "--replica-name",
        default=os.environ.get("TONGCHOU_HUB_REPLICA", ""),
        help="this replica's name in the leader election (default $TONGCHOU_HUB_REPLICA, else"
        " host-pid); with a postgresql:// store",
    )
    parser.add_argument(
        "--election-retry",
        default="1s",
        help="how often a replica tries for the lead and the leader checks it holds it (1s)",
    )
    parser.add_argument(
        "--replica-sync",
        default="1s",
        help="how often a replica reads what the others wrote, besides on notification (1s)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--listen", default="0.0.0.0:7470", help="gRPC host:port (default 0.0.0.0:7470)"
    )
    add_store_arguments(parser)
    _add_replica_arguments(parser)
    parser.add_argument(
        "--fleet", type=Path, action="append", default=[], help="fleet documents (file or folder)"
    )
    parser.add_argument(
        "--policies",
        type=Path,
        action="append",
        default=[],
        help="PlacementPolicy files or folders (e.g. policies/), in force with the built-in "
        "compliance guardrails (a policy named like a guardrail replaces it)",
    )
    parser.add_argument(
        UNSAFE_FLAG, dest="unsafe_no_guardrails", action="store_true", help=UNSAFE_HELP
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
    _add_limits(parser)
    parser.add_argument(
        "--log-file",
        type=Path,
        help="also log to this file, rotated at 10 MiB, 5 kept (e.g. /var/lib/tongchou/hub.log)",
    )
    from console.security.hub_flags import add_arguments as add_security_arguments

    add_security_arguments(parser)
    add_executor_arguments(parser)
    rollup_options.add_arguments(parser)


def _add_limits(parser: argparse.ArgumentParser) -> None:
    limits = parser.add_argument_group("connection limits (docs/hub.md)")
    limits.add_argument(
        "--max-connections",
        type=int,
        default=_DEFAULT_LIMITS.max_connections,
        help="connections the port takes at most (and no more than file descriptors allow)",
    )
    limits.add_argument(
        "--max-streams-per-peer",
        type=int,
        default=_DEFAULT_LIMITS.max_streams_per_peer,
        help="agent streams one address may hold open",
    )
    limits.add_argument(
        "--first-report-timeout",
        default="30s",
        help="a stream without a report for this long is closed",
    )
    limits.add_argument(
        "--idle-timeout",
        default="10m",
        help="a connection without any call for this long is closed",
    )
    limits.add_argument(
        "--max-node-rate",
        type=float,
        default=_DEFAULT_LIMITS.max_node_rate,
        help="reports/s one node may send over all its streams",
    )


def load_policies(paths: list[Path], *, guardrails: bool = True) -> tuple[PlacementPolicy, ...]:
    """The user's policies from `paths`; the hub adds the built-in guardrails to them (unless
    turned off). What the user's policies do to the guardrails is logged here."""
    mine: list[PlacementPolicy] = []
    if paths:
        documents = load_documents(paths)
        others = sorted({d.kind for d in documents if d.kind != "PlacementPolicy"})
        if others:
            raise ValueError(f"--policies holds {', '.join(others)} documents, not only policies")
        mine = policies_of(documents)
    for line in warnings_of(with_guardrails(mine, enabled=guardrails)):
        log.warning("%s", line)
    return tuple(mine)


def hygiene_from(args: argparse.Namespace) -> Hygiene:
    for flag, value in (
        ("--max-connections", args.max_connections),
        ("--max-streams-per-peer", args.max_streams_per_peer),
        ("--max-node-rate", args.max_node_rate),
    ):
        if not value > 0:
            raise ValueError(f"{flag} must be positive, got {value}")
    return Hygiene(
        max_connections=args.max_connections,
        max_streams_per_peer=args.max_streams_per_peer,
        first_report_seconds=parse_duration(args.first_report_timeout, "--first-report-timeout"),
        idle_seconds=parse_duration(args.idle_timeout, "--idle-timeout"),
        max_node_rate=args.max_node_rate,
    )


def config_from(args: argparse.Namespace) -> HubConfig:
    if args.max_report_rate <= 0:
        raise ValueError(f"--max-report-rate must be positive, got {args.max_report_rate}")
    return HubConfig(
        hygiene=hygiene_from(args),
        listen=args.listen,
        metrics_listen=args.metrics_listen,
        report_interval=parse_duration(args.report_interval, "--report-interval"),
        max_report_rate=args.max_report_rate,
        lost_after=parse_duration(args.lost_after, "--lost-after"),
        flush_interval=parse_duration(args.flush_interval, "--flush-interval"),
        heartbeat_every=parse_duration(args.heartbeat_every, "--heartbeat-every"),
        ready_file=args.ready_file,
        replicas=replica_settings(args),
        policies=load_policies(args.policies, guardrails=not args.unsafe_no_guardrails),
        guardrails_off=args.unsafe_no_guardrails,
        tls=server_tls(args),
        **audit_settings(args),
        executor=executor_config(args),
    )


def replica_settings(args: argparse.Namespace) -> ReplicaSettings:
    heartbeat = parse_duration(args.heartbeat_every, "--heartbeat-every")
    flush = parse_duration(args.flush_interval, "--flush-interval")
    return ReplicaSettings(
        name=args.replica_name,
        election_retry=parse_duration(args.election_retry, "--election-retry"),
        sync=parse_duration(args.replica_sync, "--replica-sync"),
        remote_grace=heartbeat + flush + 5.0,
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
            what = say(args.lang, "cannot_write_log", path=args.log_file, error=err)
            print(f"tongchou hub: {what}", file=sys.stderr)
            return 2
    from console.documents import LoadError

    try:
        config = config_from(args)
        fleet = load_fleet(args.fleet)
        config = rollup_options.with_rollup(config, args, fleet)
    except ValueError as err:
        print(f"tongchou hub: {error(args.lang, err)}", file=sys.stderr)
        return 2
    except LoadError as err:
        what = say(args.lang, "documents_invalid", errors=err.text(args.lang))
        print(f"tongchou hub: {what}", file=sys.stderr)
        return 2
    try:
        store = store_from_args(args)
    except StoreError as err:
        print(f"tongchou hub: {error(args.lang, err)}", file=sys.stderr)
        return 2
    return asyncio.run(_main(config, store, fleet, args.lang))


async def _main(config: HubConfig, store: InventoryStore, fleet: Fleet, lang: str = "en") -> int:
    hub = Hub(config, store)
    hub.load_fleet(fleet)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, hub.stop.set)
    try:
        await hub.start()
    except (OSError, RuntimeError) as err:
        print(f"tongchou hub: {error(lang, err)}", file=sys.stderr)
        return 2
    await hub.serve()
    return 0
