"""The roll-up's flags of `tongchou hub`: --national, and --upstream with its certificate."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import grpc

from console.hub.config import HubConfig
from console.hub.rollup.summary import province_of
from console.hub.rollup.upstream import UpstreamSettings
from console.model.fleet import Fleet
from console.model.planning import Platform
from console.security.pki import PkiError, identity_of
from console.security.tls import TlsFiles
from tongchou.durations import parse_duration
from tongchou.targets import split_addresses


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("national roll-up (docs/hub.md)")
    group.add_argument(
        "--national",
        action="store_true",
        help="serve as the national hub: take province hubs' summaries (RollupService)",
    )
    group.add_argument(
        "--stale-after",
        default="180s",
        help="a national hub shows a province stale after this long without a summary (180s)",
    )
    group.add_argument(
        "--upstream",
        metavar="HOST:PORT",
        help="the national hub this province hub reports its division summaries to",
    )
    group.add_argument(
        "--province",
        default="",
        help="the province code reported for (default: the fleet's province-level Division)",
    )
    group.add_argument(
        "--upstream-interval",
        default="60s",
        help="a summary at least this often, and within a second of a change (60s)",
    )
    group.add_argument(
        "--catalog",
        type=Path,
        action="append",
        default=[],
        help="Platform documents (file or folder): shared platforms and their tenants, served to"
        " consoles (ListPlatformInstances) and, with --upstream, reported upwards",
    )
    for flag, what in (
        ("--upstream-tls-ca", "the national CA's certificate"),
        ("--upstream-tls-cert", "this province's certificate (ca issue --kind province)"),
        ("--upstream-tls-key", "its key"),
    ):
        group.add_argument(flag, type=Path, help=what)
    group.add_argument(
        "--upstream-insecure",
        action="store_true",
        help="report upwards in plaintext (tests on loopback only)",
    )


def with_rollup(config: HubConfig, args: argparse.Namespace, fleet: Fleet) -> HubConfig:
    """`config` with the roll-up's settings; ValueError says which flag is wrong and why."""
    stale_after = parse_duration(args.stale_after, "--stale-after")
    platforms = read_platforms(args.catalog, args.fleet)
    upstream = None
    if args.upstream:
        split_addresses(args.upstream)
        province = province_of(fleet.divisions, args.province)
        upstream = UpstreamSettings(
            target=args.upstream,
            province=province,
            credentials=_credentials(args, province.code),
            interval=parse_duration(args.upstream_interval, "--upstream-interval"),
        )
    elif args.province or args.upstream_tls_cert:
        raise ValueError("--province and --upstream-tls-* need --upstream HOST:PORT")
    return replace(
        config,
        national=args.national,
        national_stale_after=stale_after,
        upstream=upstream,
        platforms=platforms,
    )


def _credentials(args: argparse.Namespace, province: str) -> grpc.ChannelCredentials | None:
    files = (args.upstream_tls_ca, args.upstream_tls_cert, args.upstream_tls_key)
    if args.upstream_insecure:
        if any(files):
            raise ValueError("--upstream-insecure and --upstream-tls-* exclude each other")
        return None
    if not all(files):
        raise ValueError(
            "--upstream needs --upstream-tls-ca, --upstream-tls-cert and --upstream-tls-key"
            " (or --upstream-insecure on loopback)"
        )
    try:
        tls = TlsFiles.read(*files)
        ident = identity_of(tls.cert)
    except PkiError as err:
        raise ValueError(str(err).replace("--tls-", "--upstream-tls-")) from None
    if (ident.kind, ident.name) != ("province", province):
        raise ValueError(
            f"--upstream-tls-cert {args.upstream_tls_cert} names {ident.kind}:{ident.name}; the"
            f" national hub takes province {province}'s summaries only from a certificate"
            f" 'ca issue --kind province --name {province}'"
        )
    return tls.channel_credentials()


def read_platforms(paths: list[Path], fleet: list[Path]) -> tuple[Platform, ...]:
    """The Platform documents of `paths`, read with the fleet's (their sites and tenants refer
    to its sites and divisions)."""
    if not paths:
        return ()
    from console.documents import load_documents
    from console.documents.planning import planning_input

    return tuple(planning_input(load_documents([*fleet, *paths])).platforms.values())
