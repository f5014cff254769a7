"""`tongchou audit`: verify the audit log's hash chain against its witness, export it as JSON
lines, prune it, and start a new witness."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from console.store.audit import DEFAULT_RETENTION_MONTHS, AuditEntry, AuditError, AuditLog
from console.store.audit_writer import open_log
from console.store.open import open_tables
from console.store.sqlite import StoreError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (
        (
            "verify",
            "check every record's hash and link, and the chain's end against the witness "
            "(a wipe, truncation or rollback); name the first bad record",
        ),
        ("export", "write the records as JSON lines"),
        ("prune", "delete records older than the retention (keeps the chain verifiable)"),
        (
            "witness-reset",
            "start a new witness at the chain's current head, after the old one was lost "
            "(audited; the chain is verified first)",
        ),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument(
            "--store",
            required=True,
            help="the hub's store: its SQLite file, or the postgresql:// URL of hub replicas",
        )
        p.add_argument(
            "--store-password-file",
            type=Path,
            help="file holding the PostgreSQL store's password (or $TONGCHOU_STORE_PASSWORD)",
        )
        p.add_argument(
            "--key",
            "--audit-key",
            dest="key",
            type=Path,
            help="the audit key (default <store>.audit-key; required with a postgresql:// store)",
        )
        p.add_argument(
            "--witness", type=Path, help="the witness file (default <key>.witness, beside the key)"
        )
        if name == "export":
            p.add_argument("--since", default="", help="only records at or after this ISO time")
            p.add_argument("-o", "--output", type=Path, help="file to write (default stdout)")
        if name == "prune":
            p.add_argument(
                "--retention-months",
                type=int,
                default=DEFAULT_RETENTION_MONTHS,
                help=f"keep this many calendar months (default and minimum "
                f"{DEFAULT_RETENTION_MONTHS})",
            )


def _open(args: argparse.Namespace) -> AuditLog:
    tables = open_tables(args.store, password_file=args.store_password_file)
    try:
        return open_log(tables, args.key, witness=args.witness)
    except AuditError:
        if not isinstance(tables, Path):
            tables.close()
        raise


def run(args: argparse.Namespace) -> int:
    try:
        log = _open(args)
    except (AuditError, StoreError) as err:
        print(f"tongchou audit: {err}", file=sys.stderr)
        return 2
    try:
        if args.action == "verify":
            return _verify(log)
        if args.action == "export":
            out = args.output.open("w", encoding="utf-8") if args.output else sys.stdout
            try:
                for record in log.records(since=args.since):
                    out.write(record.to_json() + "\n")
            finally:
                if args.output:
                    out.close()
            return 0
        if args.action == "witness-reset":
            return _reset(log)
        try:
            pruned = log.prune(months=args.retention_months)
        except ValueError as err:
            print(f"tongchou audit: --retention-months: {err}", file=sys.stderr)
            return 2
        print(f"pruned {pruned} records older than {args.retention_months} months")
        return 0
    except (AuditError, OSError) as err:
        print(f"tongchou audit: {err}", file=sys.stderr)
        return 1
    finally:
        log.close()


def _verify(log: AuditLog) -> int:
    verdict = log.verify()
    if verdict.ok:
        seq = log.head()[0]
        print(f"audit log OK: {verdict.records} records, head {seq} {verdict.head}")
        return 0
    where = f" at record {verdict.bad_seq}" if verdict.bad_seq else ""
    print(f"audit log BROKEN{where}: {verdict.problem}", file=sys.stderr)
    return 1


def _reset(log: AuditLog) -> int:
    import getpass

    assert log.witness is not None
    if log.witness.exists():
        print(f"tongchou audit: {log.witness.path} exists; it is not replaced", file=sys.stderr)
        return 2
    verdict = log.verify_chain()
    if not verdict.ok:
        print(
            f"tongchou audit: the chain is broken ({verdict.problem}); not resetting",
            file=sys.stderr,
        )
        return 1
    log.witness.create()
    seq = log.head()[0]
    log.append(
        AuditEntry(
            f"local:{getpass.getuser()}",
            "audit.witness-reset",
            str(log.witness.path),
            "ok",
            detail=f"a new witness starts after record {seq}",
        )
    )
    print(f"new witness {log.witness.path} from record {seq + 1}")
    return 0
