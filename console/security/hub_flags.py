"""The hub's security flags: mutual TLS files or an explicit --insecure, the audit log's key
and witness, enrolment, and the /metrics and /healthz ports."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from console.security.pki import PkiError
from console.security.tls import TlsFiles
from console.store.audit import DEFAULT_RETENTION_MONTHS, MIN_RETENTION_MONTHS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _audit_and_ports(parser.add_argument_group("audit, enrolment, metrics and health"))
    group = parser.add_argument_group("transport security (mutual TLS unless --insecure)")
    group.add_argument("--tls-ca", type=Path, help="CA certificate that signs agents and users")
    group.add_argument("--tls-cert", type=Path, help="the hub's certificate (tongchou ca issue)")
    group.add_argument("--tls-key", type=Path, help="the hub's private key")
    group.add_argument(
        "--audit-retention-months",
        type=int,
        default=DEFAULT_RETENTION_MONTHS,
        help=f"keep audit records this many calendar months (default and minimum "
        f"{MIN_RETENTION_MONTHS})",
    )
    group.add_argument(
        "--ca-dir", type=Path, help="the CA (ca.crt, ca.key) that signs join and renewal requests"
    )
    group.add_argument(
        "--token-listen",
        default="",
        help="host:port of the token port: TLS without client certificates, for nodes joining "
        "with a join token (needs --ca-dir) and console users with a bearer token",
    )
    group.add_argument(
        "--node-cert-days",
        type=float,
        default=90.0,
        help="lifetime of certificates issued to nodes",
    )
    group.add_argument(
        "--insecure",
        action="store_true",
        help="plaintext gRPC without client certificates (tests and loopback only; warns)",
    )


def _audit_and_ports(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--audit-key",
        type=Path,
        help="the audit log's HMAC key (default <store>.audit-key, created on first start); "
        "required with a postgresql:// store, the same file for every replica",
    )
    group.add_argument(
        "--audit-witness",
        type=Path,
        help="append-only file witnessing the audit chain's head (default <audit key>.witness; "
        "keep it, with the key, off the store's volume)",
    )
    group.add_argument(
        "--enrol-delivery",
        type=Path,
        help="directory where users' one-time enrolment codes are written for the channel "
        "that delivers them (mail, SMS); no API reply holds a code",
    )
    group.add_argument(
        "--health-listen",
        default="",
        help="host:port of a plain-HTTP /healthz for probes without a client certificate "
        "(a kubelet); it serves nothing else",
    )
    group.add_argument(
        "--metrics-listen",
        default="127.0.0.1:9470",
        help="/metrics host:port (default loopback: it names every division's clusters; "
        "another address wants --metrics-tls-*); empty to disable",
    )
    group.add_argument("--metrics-tls-cert", type=Path, help="serve /metrics over TLS: cert")
    group.add_argument("--metrics-tls-key", type=Path, help="... and its key")
    group.add_argument(
        "--metrics-client-ca", type=Path, help="... and require a client certificate from this CA"
    )


def audit_settings(args: argparse.Namespace) -> dict[str, Any]:
    """HubConfig's audit fields from the flags. Raises ValueError naming the flag."""
    if args.audit_retention_months < MIN_RETENTION_MONTHS:
        raise ValueError(
            f"--audit-retention-months must be at least {MIN_RETENTION_MONTHS} "
            f"(MLPS level 3 keeps logs six months), got {args.audit_retention_months}"
        )
    if args.token_listen and args.insecure:
        raise ValueError("--token-listen needs TLS: it cannot be used with --insecure")
    if args.node_cert_days <= 0:
        raise ValueError(f"--node-cert-days must be positive, got {args.node_cert_days}")
    metrics_tls = None
    if args.metrics_tls_cert or args.metrics_tls_key:
        if not (args.metrics_tls_cert and args.metrics_tls_key):
            raise ValueError("--metrics-tls-cert and --metrics-tls-key go together")
        for flag, path in (
            ("--metrics-tls-cert", args.metrics_tls_cert),
            ("--metrics-tls-key", args.metrics_tls_key),
            ("--metrics-client-ca", args.metrics_client_ca),
        ):
            if path is not None and not path.is_file():
                raise ValueError(f"{flag} {path}: no such file")
        metrics_tls = (args.metrics_tls_cert, args.metrics_tls_key, args.metrics_client_ca)
    elif args.metrics_client_ca:
        raise ValueError("--metrics-client-ca needs --metrics-tls-cert and --metrics-tls-key")
    if args.enrol_delivery is not None and not args.enrol_delivery.is_dir():
        raise ValueError(f"--enrol-delivery {args.enrol_delivery}: not a directory")
    if args.health_listen and ":" not in args.health_listen:
        raise ValueError(f"--health-listen {args.health_listen!r}: expected host:port")
    return {
        "metrics_tls": metrics_tls,
        "health_listen": args.health_listen,
        "audit_witness": args.audit_witness,
        "enrol_delivery": args.enrol_delivery,
        "audit_key": args.audit_key,
        "audit_retention_months": args.audit_retention_months,
        "ca_dir": args.ca_dir,
        "token_listen": args.token_listen,
        "node_cert_days": args.node_cert_days,
    }


def server_tls(args: argparse.Namespace) -> TlsFiles | None:
    """The hub's TLS files; None only with --insecure. Raises ValueError naming the flag."""
    given = [args.tls_ca, args.tls_cert, args.tls_key]
    if args.insecure:
        if any(given):
            raise ValueError("--insecure and --tls-ca/--tls-cert/--tls-key exclude each other")
        return None
    if not all(given):
        raise ValueError(
            "the hub runs mutual TLS: give --tls-ca, --tls-cert and --tls-key "
            "(create them with `tongchou ca init` and `tongchou ca issue --kind hub`), "
            "or --insecure for plaintext"
        )
    try:
        return TlsFiles.read(args.tls_ca, args.tls_cert, args.tls_key)
    except PkiError as err:
        raise ValueError(str(err)) from None
