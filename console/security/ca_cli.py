"""`tongchou ca`: create a certificate authority, and issue hub, node and user certificates."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from console.security.local import LocalAdmin
from console.security.pki import KINDS, CertificateAuthority, PkiError, identity_of
from console.store.audit import AuditError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = sub.add_parser("init", help="create a CA (ca.crt, ca.key) in a directory")
    init.add_argument("--dir", type=Path, required=True, help="where the CA lives")
    init.add_argument("--name", default="Tongchou CA", help="the CA's common name")
    init.add_argument("--days", type=int, default=3650, help="validity (3650 days)")
    issue = sub.add_parser("issue", help="issue a certificate and key signed by the CA")
    issue.add_argument("--dir", type=Path, required=True, help="the CA's directory")
    issue.add_argument(
        "--kind", choices=KINDS, required=True, help="hub, node, user, simulator, relay"
    )
    issue.add_argument(
        "--name", required=True, help="node name, user name, hub name, or a relay's site"
    )
    issue.add_argument(
        "--host",
        action="append",
        default=[],
        help="hub or relay: DNS name or IP the agents dial (repeatable; default localhost, "
        "127.0.0.1)",
    )
    issue.add_argument("--days", type=int, help="validity in days (hub 365, node/user 90)")
    issue.add_argument("--out", type=Path, help="output directory (default: the CA's directory)")
    issue.add_argument(
        "--store", type=Path, help="a hub's store: record the issue in its audit log"
    )
    issue.add_argument("--audit-key", type=Path, help="default <store>.audit-key")
    revoke = sub.add_parser("revoke", help="revoke a certificate in a hub's store")
    revoke.add_argument("--store", type=Path, required=True, help="the hub's SQLite store")
    revoke.add_argument("--cert", type=Path, required=True, help="the certificate (PEM)")
    revoke.add_argument("--reason", default="", help="why (kept in the audit log)")
    revoke.add_argument("--audit-key", type=Path, help="default <store>.audit-key")


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "revoke":
            return _revoke(args)
        if args.days is not None and args.days <= 0:
            raise PkiError(f"--days must be positive, got {args.days}")
        if args.action == "init":
            CertificateAuthority.init(args.dir, name=args.name, days=args.days)
            print(f"CA created: {args.dir / 'ca.crt'} (keep {args.dir / 'ca.key'} secret)")
            return 0
        if args.host and args.kind not in ("hub", "relay"):
            raise PkiError("--host applies only to --kind hub or relay")
        ca = CertificateAuthority.load(args.dir)
        issued = ca.issue(args.kind, args.name, days=args.days, hosts=tuple(args.host))
        admin = None
        if args.store is not None:
            try:
                admin = LocalAdmin(args.store, args.audit_key)
            except AuditError as err:
                raise PkiError(str(err)) from None
        cert, key = issued.write(args.out or args.dir, args.name)
        if admin is not None:
            serial = identity_of(issued.cert_pem).serial
            admin.record("cert.issue", f"{args.kind}/{args.name}", detail=f"serial {serial:x}")
            admin.close()
    except PkiError as err:
        print(f"tongchou ca: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"tongchou ca: {err.filename}: {err.strerror}", file=sys.stderr)
        return 2
    print(f"issued {args.kind} certificate for {args.name}: {cert} and {key}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    try:
        ident = identity_of(args.cert.read_bytes())
    except OSError as err:
        raise PkiError(f"--cert {args.cert}: cannot read: {err.strerror}") from None
    try:
        admin = LocalAdmin(args.store, args.audit_key)
    except AuditError as err:
        raise PkiError(str(err)) from None
    try:
        fresh = admin.credentials.revoke(ident.serial, ident.name, args.reason)
        admin.record(
            "cert.revoke",
            f"{ident.kind}/{ident.name}",
            "ok" if fresh else "already",
            detail=f"serial {ident.serial:x}; {args.reason}".rstrip("; "),
        )
    finally:
        admin.close()
    print(f"revoked the {ident.kind} certificate of {ident.name} (serial {ident.serial:x})")
    return 0
