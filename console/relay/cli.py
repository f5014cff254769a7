"""`tongchou relay`: a site's gateway, its nodes' streams in and batched reports out to the hub."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from console.relay.server import Relay, RelayConfig
from console.relay.upstream import UpstreamSettings
from console.security.pki import PkiError, identity_of
from console.security.tls import INSECURE_WARNING, TlsFiles
from tongchou.durations import DurationError, parse_duration
from tongchou.opsmsg import error
from tongchou.targets import split_addresses

log = logging.getLogger("tongchou.relay")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--hub",
        required=True,
        help="the hub's address, or several replicas' (host:port, comma-separated)",
    )
    parser.add_argument(
        "--listen", default="0.0.0.0:7470", help="where the site's agents connect (0.0.0.0:7470)"
    )
    parser.add_argument(
        "--site",
        help="the site this relay serves (with mutual TLS it must be the certificate's name, "
        "and defaults to it)",
    )
    parser.add_argument("--metrics-listen", default="", help="host:port of /metrics (off)")
    parser.add_argument(
        "--buffer",
        type=int,
        default=100_000,
        help="reports held while the hub is away; beyond it the oldest are dropped and counted "
        "(100000)",
    )
    parser.add_argument("--batch-max", type=int, default=500, help="reports per batch (500)")
    parser.add_argument(
        "--batch-wait", default="250ms", help="how long a batch waits to fill (250ms)"
    )
    parser.add_argument(
        "--report-interval",
        default="10s",
        help="interval asked of agents until the hub answers with its own (10s)",
    )
    parser.add_argument(
        "--backoff-max", default="15s", help="longest wait between two tries to reach the hub"
    )
    parser.add_argument(
        "--drain-timeout", default="10s", help="time to hand the buffer to the hub at a stop"
    )
    parser.add_argument(
        "--trust-simulators",
        action="store_true",
        help="accept simulator certificates for any node (load tests)",
    )
    parser.add_argument("--ready-file", type=Path, help="write the bound ports here as JSON")
    parser.add_argument(
        "--log-level", default="info", choices=("debug", "info", "warning", "error")
    )
    group = parser.add_argument_group("transport security (mutual TLS unless --insecure)")
    group.add_argument("--tls-ca", type=Path, help="the CA certificate (PEM)")
    group.add_argument(
        "--tls-cert",
        type=Path,
        help="the relay's certificate (tongchou ca issue --kind relay --name SITE --host ...)",
    )
    group.add_argument("--tls-key", type=Path, help="the relay's private key")
    group.add_argument(
        "--insecure", action="store_true", help="plaintext on both sides (loopback and tests)"
    )


def config_from(args: argparse.Namespace) -> RelayConfig:
    """The relay's settings; ValueError (or PkiError) names the flag that is wrong."""
    split_addresses(args.hub)
    tls = _tls(args)
    site = args.site or ""
    if tls is not None:
        named = identity_of(tls.cert)
        if named.kind != "relay":
            raise ValueError(
                f"--tls-cert {args.tls_cert}: a {named.kind} certificate, not a relay's"
            )
        if site and site != named.name:
            raise ValueError(f"--site {site} is not the certificate's site ({named.name})")
        site = named.name
    if not site:
        raise ValueError("--site is required with --insecure")
    for flag, value in (("--buffer", args.buffer), ("--batch-max", args.batch_max)):
        if value < 1:
            raise ValueError(f"{flag} must be at least 1, got {value}")
    upstream = UpstreamSettings(
        hub=args.hub,
        site=site,
        credentials=tls.channel_credentials() if tls is not None else None,
        batch_max=args.batch_max,
        batch_wait=parse_duration(args.batch_wait, "--batch-wait", low=0.0),
        backoff_max=parse_duration(args.backoff_max, "--backoff-max", low=0.5),
    )
    return RelayConfig(
        listen=args.listen,
        upstream=upstream,
        tls=tls,
        metrics_listen=args.metrics_listen,
        buffer=args.buffer,
        report_interval=parse_duration(args.report_interval, "--report-interval"),
        trust_simulators=args.trust_simulators,
        drain_timeout=parse_duration(args.drain_timeout, "--drain-timeout"),
        ready_file=args.ready_file,
    )


def _tls(args: argparse.Namespace) -> TlsFiles | None:
    given = [args.tls_ca, args.tls_cert, args.tls_key]
    if args.insecure:
        if any(given):
            raise ValueError("--insecure and --tls-ca/--tls-cert/--tls-key exclude each other")
        return None
    if not all(given):
        raise ValueError("give --tls-ca, --tls-cert and --tls-key (or --insecure)")
    return TlsFiles.read(args.tls_ca, args.tls_cert, args.tls_key)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        config = config_from(args)
    except (ValueError, PkiError, DurationError) as err:
        print(f"tongchou relay: {error(args.lang, err)}", file=sys.stderr)
        return 2
    if config.tls is None:
        log.warning("%s", INSECURE_WARNING)
    return asyncio.run(_main(config))


async def _main(config: RelayConfig) -> int:
    relay = Relay(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, relay.stop.set)
    try:
        await relay.start()
    except OSError as err:
        print(f"tongchou relay: {err}", file=sys.stderr)
        return 2
    await relay.serve()
    return 0
