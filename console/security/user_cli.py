"""`tongchou user`: console users, their roles and division scope, in the hub's store."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from console.security.local import STORE_HELP, LocalAdmin
from console.security.pki import PkiError, check_name
from console.security.roles import ROLES, RoleError, check_roles, check_scope
from console.store.audit import AuditError
from console.store.credentials import CredentialError, User
from tongchou.climsg import say
from tongchou.durations import DurationError, parse_duration
from tongchou.opsmsg import error


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add a user; prints its bearer token once")
    add.add_argument("--name", required=True, help="user name (also a user certificate's CN)")
    add.add_argument(
        "--role", action="append", required=True, choices=tuple(ROLES), help="repeatable"
    )
    add.add_argument("--scope", default="", help="division code of the subtree (default: all)")
    sub.add_parser("list", help="every user with roles and scope")
    delete = sub.add_parser("delete", help="remove a user (and revoke its certificates)")
    delete.add_argument("--name", required=True)
    code = sub.add_parser(
        "enrol-code",
        help="a one-time enrolment code for a user (replaces any earlier one); written to "
        "--deliver DIR for the channel that carries it to the user, or printed",
    )
    code.add_argument("--name", required=True)
    code.add_argument("--deliver", type=Path, help="directory the delivery channel reads")
    code.add_argument("--ttl", default="24h", help="how long it is valid (24h; at most 7d)")
    for p in sub.choices.values():
        p.add_argument("--store", required=True, help=STORE_HELP)
        p.add_argument("--audit-key", type=Path, help="default <store>.audit-key")


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "add":
            check_name("user", args.name)
            user = User(args.name, check_roles(args.role), check_scope(args.scope))
        admin = LocalAdmin(args.store, args.audit_key)
    except (PkiError, RoleError, AuditError) as err:
        print(f"tongchou user: {error(args.lang, err)}", file=sys.stderr)
        return 2
    try:
        if args.action == "add":
            try:
                token = admin.credentials.add_user(user)
            except CredentialError as err:
                admin.record("user.create", f"user/{args.name}", "failed", detail=str(err))
                print(f"tongchou user: {error(args.lang, err)}", file=sys.stderr)
                return 2
            admin.record(
                "user.create", f"user/{user.name}", role=",".join(user.roles), scope=user.scope
            )
            print(token)
        elif args.action == "enrol-code":
            return _enrol_code(admin, args)
        elif args.action == "list":
            for u in admin.credentials.users():
                scope = u.scope or say(args.lang, "user_all_divisions")
                print(f"{u.name:<24} {','.join(u.roles):<24} {scope}")
        else:
            if not admin.credentials.delete_user(args.name):
                print(
                    f"tongchou user: {say(args.lang, 'user_no_such', name=repr(args.name))}",
                    file=sys.stderr,
                )
                return 2
            admin.record("user.delete", f"user/{args.name}", detail="certificates revoked")
    finally:
        admin.close()
    return 0


def _enrol_code(admin: LocalAdmin, args: argparse.Namespace) -> int:
    from console.security.accounts import deliver_code

    try:
        ttl = parse_duration(args.ttl, "--ttl", high=7 * 86400)
        code = admin.credentials.issue_enrolment_code(args.name, ttl)
    except (DurationError, CredentialError) as err:
        print(f"tongchou user: {error(args.lang, err)}", file=sys.stderr)
        return 2
    if args.deliver is not None:
        try:
            path = deliver_code(args.deliver, args.name, code)
        except OSError as err:
            what = error(args.lang, f"--deliver {args.deliver}: {err.strerror}")
            print(f"tongchou user: {what}", file=sys.stderr)
            return 2
        admin.record("user.enrol-code", f"user/{args.name}", detail=f"delivered; valid {args.ttl}")
        print(say(args.lang, "user_code_written", name=args.name, path=path))
        return 0
    admin.record("user.enrol-code", f"user/{args.name}", detail=f"printed; valid {args.ttl}")
    print(code)
    return 0
