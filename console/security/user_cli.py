"""`tongchou user`: console users, their roles and division scope, in the hub's store."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from console.security.local import LocalAdmin
from console.security.pki import PkiError, check_name
from console.security.roles import ROLES, RoleError, check_roles, check_scope
from console.store.audit import AuditError
from console.store.credentials import CredentialError, User


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add a user; prints its bearer token once")
    add.add_argument("--name", required=True, help="user name (also a user certificate's CN)")
    add.add_argument(
        "--role", action="append", required=True, choices=tuple(ROLES), help="repeatable"
    )
    add.add_argument("--scope", default="", help="division code of the subtree (default: all)")
    sub.add_parser("list", help="every user with roles and scope")
    delete = sub.add_parser("delete", help="remove a user")
    delete.add_argument("--name", required=True)
    for p in sub.choices.values():
        p.add_argument("--store", type=Path, required=True, help="the hub's SQLite store")
        p.add_argument("--audit-key", type=Path, help="default <store>.audit-key")


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "add":
            check_name("user", args.name)
            user = User(args.name, check_roles(args.role), check_scope(args.scope))
        admin = LocalAdmin(args.store, args.audit_key)
    except (PkiError, RoleError, AuditError) as err:
        print(f"tongchou user: {err}", file=sys.stderr)
        return 2
    try:
        if args.action == "add":
            try:
                token = admin.credentials.add_user(user)
            except CredentialError as err:
                admin.record("user.create", f"user/{args.name}", "failed", detail=str(err))
                print(f"tongchou user: {err}", file=sys.stderr)
                return 2
            admin.record(
                "user.create", f"user/{user.name}", role=",".join(user.roles), scope=user.scope
            )
            print(token)
        elif args.action == "list":
            for u in admin.credentials.users():
                print(f"{u.name:<24} {','.join(u.roles):<24} {u.scope or '(all)'}")
        else:
            if not admin.credentials.delete_user(args.name):
                print(f"tongchou user: no user {args.name!r}", file=sys.stderr)
                return 2
            admin.record("user.delete", f"user/{args.name}")
    finally:
        admin.close()
    return 0
