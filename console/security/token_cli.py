"""`tongchou token create`: a short-lived, single-use join token for one node."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from console.security.local import STORE_HELP, LocalAdmin
from console.security.pki import PkiError, check_name
from console.store.audit import AuditError
from tongchou.durations import DurationError, parse_duration


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = sub.add_parser("create", help="a join token for one node (printed once)")
    create.add_argument("--store", required=True, help=STORE_HELP)
    create.add_argument("--node", required=True, help="the node that may join with it")
    create.add_argument("--ttl", default="15m", help="how long it is valid (15m; at most 24h)")
    create.add_argument("--audit-key", type=Path, help="default <store>.audit-key")


def run(args: argparse.Namespace) -> int:
    try:
        check_name("node", args.node)
        ttl = parse_duration(args.ttl, "--ttl", high=86400)
        admin = LocalAdmin(args.store, args.audit_key)
    except (PkiError, DurationError, AuditError) as err:
        print(f"tongchou token: {err}", file=sys.stderr)
        return 2
    try:
        token = admin.credentials.create_token(args.node, ttl)
        admin.record("token.create", f"node/{args.node}", detail=f"valid {args.ttl}")
    finally:
        admin.close()
    print(token)
    return 0
