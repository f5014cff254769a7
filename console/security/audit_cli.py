"""`tongchou audit`: verify the audit log's hash chain, export it as JSON lines, prune it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from console.store.audit import (
    DEFAULT_RETENTION_MONTHS,
    AuditError,
    AuditLog,
    default_key_path,
    load_key,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (
        ("verify", "check every record's hash and link; name the first bad record"),
        ("export", "write the records as JSON lines"),
        ("prune", "delete records older than the retention (keeps the chain verifiable)"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--store", type=Path, required=True, help="the hub's SQLite store")
        p.add_argument("--key", type=Path, help="the audit key (default <store>.audit-key)")
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


def open_log(store: Path, key: Path | None) -> AuditLog:
    if not store.is_file():
        raise AuditError(f"{store}: no such store file")
    return AuditLog(store, load_key(key or default_key_path(store)))


def run(args: argparse.Namespace) -> int:
    try:
        log = open_log(args.store, args.key)
    except AuditError as err:
        print(f"tongchou audit: {err}", file=sys.stderr)
        return 2
    try:
        if args.action == "verify":
            verdict = log.verify()
            if verdict.ok:
                print(f"audit log OK: {verdict.records} records, head {verdict.head}")
                return 0
            print(
                f"audit log BROKEN at record {verdict.bad_seq}: {verdict.problem}", file=sys.stderr
            )
            return 1
        if args.action == "export":
            out = args.output.open("w", encoding="utf-8") if args.output else sys.stdout
            try:
                for record in log.records(since=args.since):
                    out.write(record.to_json() + "\n")
            finally:
                if args.output:
                    out.close()
            return 0
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
