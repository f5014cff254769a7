"""`tongchou ca`: create a certificate authority, issue hub, node and user certificates, and
revoke a node's, a user's or one certificate's whole lineage."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from console.security.local import STORE_HELP, LocalAdmin
from console.security.pki import KINDS, CertificateAuthority, Issued, PkiError, identity_of
from console.store.audit import AuditError
from tongchou.climsg import say
from tongchou.opsmsg import error


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = sub.add_parser("init", help="create a CA (ca.crt, ca.key) in a directory")
    init.add_argument("--dir", type=Path, required=True, help="where the CA lives")
    init.add_argument("--name", default="Tongchou CA", help="the CA's common name")
    init.add_argument("--days", type=int, default=3650, help="validity (3650 days)")
    issue = sub.add_parser("issue", help="issue a certificate and key signed by the CA")
    issue.add_argument("--dir", type=Path, required=True, help="the CA's directory")
    issue.add_argument(
        "--kind",
        choices=KINDS,
        required=True,
        help="hub, node, user, simulator, scraper (reads /metrics), relay, province (a province"
        " hub reporting to the national hub; --name is its GB/T 2260 code)",
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
        "--store",
        help="a hub's store: record the serial (its lineage can then be revoked) and audit "
        "the issue; required for --kind user, whose certificate is bound to the account",
    )
    issue.add_argument("--audit-key", type=Path, help="default <store>.audit-key")
    revoke = sub.add_parser(
        "revoke", help="revoke a certificate's whole lineage (every renewal) in a hub's store"
    )
    revoke.add_argument("--store", required=True, help=STORE_HELP)
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--node", help="every certificate ever issued to this node")
    which.add_argument("--user", help="every certificate ever issued to this user")
    which.add_argument("--serial", help="the lineage of the certificate with this serial (hex)")
    which.add_argument("--cert", type=Path, help="the lineage of this certificate (PEM file)")
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
            print(
                say(args.lang, "ca_created", cert=args.dir / "ca.crt", keyfile=args.dir / "ca.key")
            )
            return 0
        if args.host and args.kind not in ("hub", "relay"):
            raise PkiError("--host applies only to --kind hub or relay")
        if args.kind == "user" and args.store is None:
            raise PkiError("--kind user needs --store: a user certificate is bound to the account")
        ca = CertificateAuthority.load(args.dir)
        issued = ca.issue(args.kind, args.name, days=args.days, hosts=tuple(args.host))
        admin = _admin(args.store, args.audit_key) if args.store is not None else None
        try:
            owner = ""
            if admin is not None and args.kind == "user":
                user = admin.credentials.user(args.name)
                if user is None:
                    raise PkiError(f"--name {args.name}: no such user in {args.store}")
                owner = user.id
            cert, key = issued.write(args.out or args.dir, args.name)
            if admin is not None:
                _record(admin, issued, args.kind, args.name, owner)
        finally:
            if admin is not None:
                admin.close()
    except PkiError as err:
        print(f"tongchou ca: {error(args.lang, err)}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"tongchou ca: {err.filename}: {err.strerror}", file=sys.stderr)
        return 2
    print(say(args.lang, "ca_issued", kind=args.kind, name=args.name, cert=cert, keyfile=key))
    return 0


def _admin(store: str, key: Path | None) -> LocalAdmin:
    try:
        return LocalAdmin(store, key)
    except AuditError as err:
        raise PkiError(str(err)) from None


def _record(admin: LocalAdmin, issued: Issued, kind: str, name: str, owner: str) -> None:
    ident = identity_of(issued.cert_pem)
    record = admin.credentials.record_certificate(
        ident.serial,
        kind,
        name,
        ident.not_before.timestamp(),
        ident.not_after.timestamp(),
        owner=owner,
        issued_by=admin.actor,
    )
    admin.record("cert.issue", f"{kind}/{name}", detail=f"serial {record.serial}")


def _revoke(args: argparse.Namespace) -> int:
    reason = args.reason
    if args.cert is not None:
        try:
            ident = identity_of(args.cert.read_bytes())
        except OSError as err:
            raise PkiError(f"--cert {args.cert}: cannot read: {err.strerror}") from None
    if args.serial is not None:
        try:
            serial = int(args.serial.removeprefix("0x").replace(":", ""), 16)
        except ValueError:
            raise PkiError(f"--serial {args.serial!r}: not a hexadecimal serial") from None
    admin = _admin(args.store, args.audit_key)
    try:
        creds = admin.credentials
        if args.node is not None or args.user is not None:
            kind, name = ("node", args.node) if args.node is not None else ("user", args.user)
            lineages = creds.revoke_name(kind, name, reason)
            said = say(args.lang, "ca_revoked_all", kind=kind, name=name)
            detail = f"lineages {', '.join(lineages) or 'none recorded'}; issued before now"
        else:
            if args.cert is None:
                record = creds.certificate(serial)
                if record is None:  # the first of a lineage, issued without the store
                    record = next(iter(creds.lineage(f"{serial:x}")), None)
                if record is None:
                    raise PkiError(
                        f"--serial {args.serial}: no certificate with this serial in "
                        f"{args.store}; revoke by --node or --user"
                    )
                kind, name = record.kind, record.name
            else:
                serial, kind, name = ident.serial, ident.kind, ident.name
            fresh = creds.revoke(serial, name, reason, kind=kind)
            record = creds.certificate(serial)
            lineage = record.lineage if record else f"{serial:x}"
            lineages = [lineage] if fresh else []
            said = say(
                args.lang, "ca_revoked_one", kind=kind, name=name, serial=f"{serial:x}",
                lineage=lineage,
            )  # fmt: skip
            detail = f"serial {serial:x}; lineage {lineage}"
        admin.record(
            "cert.revoke",
            f"{kind}/{name}",
            "ok" if lineages or args.node or args.user else "already",
            detail=f"{detail}; {reason}".rstrip("; "),
        )
    finally:
        admin.close()
    print(said)
    return 0
