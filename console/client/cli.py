"""`tongchou workload`: submit, list, show, scale, explain and delete workloads in a running
hub."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import grpc

from console.client import HubClient
from console.client.texts import DocumentText, documents_of
from console.security.pki import PkiError
from console.security.tls import add_client_arguments, client_credentials
from tongchou.climsg import say
from tongchou.i18n import LANGUAGES, default_lang, translate_composed
from tongchou.v1 import workloads_pb2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hub", default="127.0.0.1:7470", help="hub address (127.0.0.1:7470)")
    add_client_arguments(parser)
    parser.add_argument(
        "--lang", choices=LANGUAGES, default=default_lang(),
        help="language of the messages and reasons (default from LANG / LC_ALL)",
    )  # fmt: skip
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    submit = sub.add_parser("submit", help="submit Workload documents (one per document)")
    submit.add_argument("files", type=Path, nargs="+")
    sub.add_parser("list", help="every workload with its placement")
    explain = sub.add_parser("explain", help="every cluster's verdict for a workload")
    explain.add_argument("name")
    delete = sub.add_parser("delete", help="remove a workload and its placements")
    delete.add_argument("name")
    show = sub.add_parser("show", help="a workload's stored document (YAML)")
    show.add_argument("name")
    scale = sub.add_parser("scale", help="set a workload's replicas; it is placed again")
    scale.add_argument("name")
    scale.add_argument("replicas", type=_count, help="the new replica count")


def _count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        count = -1
    if count < 0:
        raise argparse.ArgumentTypeError(f"replicas must be a whole number ≥ 0, not {value!r}")
    return count


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run(args))
    except grpc.aio.AioRpcError as err:
        code = err.code()
        print(f"tongchou workload: {err.details()}", file=sys.stderr)
        if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND):
            return 2
        return 1
    except (OSError, PkiError) as err:
        print(f"tongchou workload: {err}", file=sys.stderr)
        return 2


def format_status(s: workloads_pb2.WorkloadStatus, lang: str = "en") -> str:
    where = ", ".join(f"{p.cluster}×{p.replicas}" for p in s.placed)
    placed = sum(p.replicas for p in s.placed)
    line = f"{s.name:<28} {placed:>3}/{s.replicas:<3} gen {s.generation:<3} {where}"
    if s.pending:
        line += "  " + say(lang, "pending", n=s.pending, reason=translate_composed(lang, s.reason))
    return line


def print_explanation(explanation: workloads_pb2.Explanation, lang: str = "en") -> None:
    print(format_status(explanation.status, lang))
    summary = translate_composed(lang, explanation.summary)
    print(say(lang, "now", summary=summary or say(lang, "every_candidate")))
    ranked = sorted(explanation.clusters, key=lambda v: (v.removed_by != "", -v.score))
    for v in ranked:
        if v.removed_by:
            why = say(lang, "removed_by", policy=v.removed_by,
                      reason=translate_composed(lang, v.reason))  # fmt: skip
            print(f"  {v.cluster:<24} {why}")
        else:
            terms = " ".join(f"{k}={t:.1f}" for k, t in sorted(v.terms.items()))
            print(
                f"  {v.cluster:<24} fit {v.fit:<4} cap {v.cap:<4} score {v.score:6.1f}"
                f"  would take {v.replicas}  {terms}"
            )


async def _run(args: argparse.Namespace) -> int:
    async with HubClient(args.hub, client_credentials(args)) as client:
        if args.action == "submit":
            for path in args.files:
                # a file without a `kind` goes as it is, for the hub to say what is wrong
                documents = documents_of(path) or [
                    DocumentText(path, 1, path.read_text(encoding="utf-8"))
                ]
                for document in documents:
                    try:
                        status = await client.submit_workload(document.text)
                    except grpc.aio.AioRpcError as err:  # named at the file's own line
                        print(f"tongchou workload: {document.locate(err.details() or '')}",
                              file=sys.stderr)  # fmt: skip
                        return 2 if err.code() == grpc.StatusCode.INVALID_ARGUMENT else 1
                    print(format_status(status, args.lang))
        elif args.action == "list":
            for status in await client.workloads():
                print(format_status(status, args.lang))
        elif args.action == "explain":
            print_explanation(await client.explain(args.name), args.lang)
        elif args.action == "show":
            sys.stdout.write(await client.workload_document(args.name))
        elif args.action == "scale":
            print(format_status(await client.scale_workload(args.name, args.replicas), args.lang))
        else:
            await client.delete_workload(args.name)
            print(say(args.lang, "deleted", name=args.name))
    return 0
