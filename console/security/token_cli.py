"""`tongchou token create`: a short-lived, single-use join token for one node, optionally
naming the node's division, site and cluster (its reports are then bound to them)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from console.documents.codes import ENV_ALLOW, allowing_new_codes, check_known
from console.security.local import STORE_HELP, LocalAdmin
from console.security.pki import PkiError, check_name
from console.store.audit import AuditError
from console.store.credentials import NodePlace
from tongchou.divisions import DivisionCodeError, check_code
from tongchou.durations import DurationError, parse_duration
from tongchou.opsmsg import error

PLACE_FLAGS = ("--division", "--site", "--cluster")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = sub.add_parser("create", help="a join token for one node (printed once)")
    create.add_argument("--store", required=True, help=STORE_HELP)
    create.add_argument("--node", required=True, help="the node that may join with it")
    create.add_argument("--ttl", default="15m", help="how long it is valid (15m; at most 24h)")
    create.add_argument("--audit-key", type=Path, help="default <store>.audit-key")
    place = create.add_argument_group(
        "the node's place (all three or none): the hub refuses the node's reports that name "
        "another division, site or cluster"
    )
    place.add_argument("--division", help="its GB/T 2260 division code (440106)")
    place.add_argument("--site", help="its site (gz-tianhe-dc)")
    place.add_argument("--cluster", help="its cluster (gz-tianhe-a)")
    place.add_argument(
        "--allow-new-codes",
        action="store_true",
        help=f"accept a well-formed code missing from the national table (also {ENV_ALLOW}=1)",
    )


class _PlaceError(ValueError):
    pass


def place_of(args: argparse.Namespace) -> NodePlace | None:
    """The place the flags name, None without them. Raises _PlaceError saying what is wrong."""
    given = [flag for flag in PLACE_FLAGS if getattr(args, flag[2:]) is not None]
    if not given:
        return None
    if len(given) != len(PLACE_FLAGS):
        missing = ", ".join(f for f in PLACE_FLAGS if f not in given)
        raise _PlaceError(f"{', '.join(given)} given without {missing}: give all three or none")
    try:
        with allowing_new_codes(args.allow_new_codes):
            division = check_known(check_code(args.division))
    except DivisionCodeError as err:
        raise _PlaceError(f"--division: {err}") from None
    for flag in ("site", "cluster"):
        try:
            check_name("node", getattr(args, flag))  # the same rule as names in certificates
        except PkiError:
            raise _PlaceError(
                f"--{flag}: {getattr(args, flag)!r} must be 1-253 letters, digits, '.', '_', "
                "'@' or '-'"
            ) from None
    return NodePlace(division, args.site, args.cluster)


def run(args: argparse.Namespace) -> int:
    try:
        check_name("node", args.node)
        ttl = parse_duration(args.ttl, "--ttl", high=86400)
        place = place_of(args)
        admin = LocalAdmin(args.store, args.audit_key)
    except (PkiError, DurationError, AuditError, _PlaceError) as err:
        print(f"tongchou token: {error(args.lang, err)}", file=sys.stderr)
        return 2
    detail = f"valid {args.ttl}"
    if place is not None:
        detail += f"; division {place.division}, site {place.site}, cluster {place.cluster}"
    try:
        token = admin.credentials.create_token(args.node, ttl, place=place)
        admin.record("token.create", f"node/{args.node}", detail=detail)
    finally:
        admin.close()
    print(token)
    return 0
