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
from tongchou.climsg import say
from tongchou.opsmsg import error


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
        print(f"tongchou audit: {error(args.lang, err)}", file=sys.stderr)
        return 2
    try:
        if args.action == "verify":
            return _verify(log, args.lang)
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
            return _reset(log, args.lang)
        try:
            pruned = log.prune(months=args.retention_months)
        except ValueError as err:
            print(
                f"tongchou audit: {error(args.lang, f'--retention-months: {err}')}", file=sys.stderr
            )
            return 2
        print(say(args.lang, "audit_pruned", n=pruned, months=args.retention_months))
        return 0
    except (AuditError, OSError) as err:
        print(f"tongchou audit: {error(args.lang, err)}", file=sys.stderr)
        return 1
    finally:
        log.close()


def _verify(log: AuditLog, lang: str = "en") -> int:
    verdict = log.verify()
    if verdict.ok:
        seq = log.head()[0]
        print(say(lang, "audit_ok", n=verdict.records, seq=seq, head=verdict.head))
        return 0
    if verdict.bad_seq:
        said = say(lang, "audit_broken_at", seq=verdict.bad_seq, problem=verdict.problem)
    else:
        said = say(lang, "audit_broken", problem=verdict.problem)
    print(said, file=sys.stderr)
    return 1


def _reset(log: AuditLog, lang: str = "en") -> int:
    import getpass

    assert log.witness is not None
    if log.witness.exists():
        what = say(lang, "audit_witness_exists", path=log.witness.path)
        print(f"tongchou audit: {what}", file=sys.stderr)
        return 2
    verdict = log.verify_chain()
    if not verdict.ok:
        what = say(lang, "audit_chain_broken", problem=verdict.problem)
        print(f"tongchou audit: {what}", file=sys.stderr)
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
    print(say(lang, "audit_new_witness", path=log.witness.path, seq=seq + 1))
    return 0
