"""`tongchou report`: the monthly report for leadership, from a hub (and its Prometheus)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from console.client import HubClient
from console.client.connect import add_client_arguments, open_client
from console.client.errors import HubError
from console.report.gather import hub_state
from console.report.month import Month
from console.report.pdf import PdfError, find_browser, html_to_pdf
from console.report.prometheus import Prometheus, PrometheusError, add_prometheus_arguments
from console.report.render import History, render
from tongchou.climsg import say
from tongchou.i18n import default_lang
from tongchou.opsmsg import error


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--month", required=True, help="the month to report, YYYY-MM (2026-11)")
    parser.add_argument("--hub", default="127.0.0.1:7470", help="hub address (127.0.0.1:7470)")
    parser.add_argument(
        "--lang",
        choices=("zh", "en"),
        help="report language (default zh); the messages follow it, else the locale",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="the file to write: .pdf (default report-YYYY-MM.pdf) or .html (no browser needed)",
    )
    parser.add_argument("--chromium", default="", help="the browser that prints the PDF")
    add_prometheus_arguments(parser)
    add_client_arguments(parser)


async def _make(
    args: argparse.Namespace, client: HubClient, month: Month, prometheus: Prometheus | None
) -> str:
    window = month.window()
    history = None
    async with client:
        state = await hub_state(client)
    if prometheus is not None:
        series = await prometheus.history(window)
        history = History(prometheus.url, window[0], window[1], series)
    return await asyncio.to_thread(
        render, state, month, args.lang or "zh", history, datetime.now(UTC)
    )


def _said(args: argparse.Namespace) -> str:
    """The language of the command's messages: --lang when given, else the locale's (the
    report itself is Chinese unless --lang en)."""
    return str(args.lang or default_lang())


def run(args: argparse.Namespace) -> int:
    try:
        month = Month.parse(args.month)
        month.window()
        prometheus = Prometheus.from_args(args)
        output: Path = args.output or Path(f"report-{month}.pdf")
        if output.suffix not in (".pdf", ".html"):
            raise ValueError(f"-o {output}: the report is written as .pdf or .html")
        browser = find_browser(args.chromium) if output.suffix == ".pdf" else ""
        client = open_client(args.hub, args)
    except (ValueError, PdfError) as err:
        print(f"tongchou report: {error(_said(args), err)}", file=sys.stderr)
        return 2
    try:
        html = asyncio.run(_make(args, client, month, prometheus))
    except HubError as err:
        what = say(_said(args), "report_hub_failed", hub=args.hub, error=err.message)
        print(f"tongchou report: {what}", file=sys.stderr)
        return 1
    except PrometheusError as err:
        print(f"tongchou report: Prometheus {err}", file=sys.stderr)
        return 1
    try:
        if output.suffix == ".html":
            output.write_text(html, encoding="utf-8")
        else:
            html_to_pdf(html, output, browser)
    except (OSError, PdfError) as err:
        print(
            f"tongchou report: {output}: {getattr(err, 'strerror', None) or err}", file=sys.stderr
        )
        return 1
    print(f"tongchou report: {say(_said(args), 'report_wrote', path=output)}")
    return 0
