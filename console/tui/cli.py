"""`tongchou console`: the Textual console attached to a hub."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from console.client.connect import add_client_arguments, open_client
from console.client.history import add_prometheus_arguments, prometheus_from
from console.tui.i18n import default_lang
from console.tui.paths import state_home
from console.tui.web_flags import add_web_arguments, running_in_browser
from tongchou.climsg import say
from tongchou.logfile import log_to_file
from tongchou.opsmsg import error


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hub", default="127.0.0.1:7470", help="hub address (127.0.0.1:7470)")
    parser.add_argument(
        "--lang",
        choices=("en", "zh"),
        default=default_lang(),
        help="interface language (default from the locale: zh when LANG is zh_*)",
    )
    parser.add_argument(
        "--export-dir",
        type=Path,
        default=state_home() / "exports",
        help="where exports are written (default $XDG_STATE_HOME/tongchou/exports)",
    )
    parser.add_argument(
        "--log-file",
        type=Path,
        default=state_home() / "console.log",
        help="the console's log, rotated at 10 MiB (default $XDG_STATE_HOME/tongchou/console.log)",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="a wall screen: no workload submitted or deleted, no plan run, no file read or "
        "written (policy checks, exports)",
    )
    parser.add_argument(
        "--national",
        action="store_true",
        help="the national view of a national hub (tongchou hub --national): provinces and"
        " their divisions",
    )
    add_client_arguments(parser)
    add_web_arguments(parser)
    add_prometheus_arguments(parser)


def run(args: argparse.Namespace) -> int:
    try:
        client = open_client(args.hub, args)
        prometheus = prometheus_from(args)
    except ValueError as err:  # the certificates or the Prometheus options the flags name
        print(f"tongchou console: {error(args.lang, err)}", file=sys.stderr)
        return 2
    if args.web:
        from console.tui.web import run_web  # aiohttp and textual-serve load only here

        return run_web(args)
    if not (sys.stdin.isatty() and sys.stdout.isatty()) and not running_in_browser():
        print(f"tongchou console: {say(args.lang, 'console_no_terminal')}", file=sys.stderr)
        return 2
    if args.national:
        from console.tui.national import NationalApp

        NationalApp(client, lang=args.lang).run()
        return 0
    from console.tui.app import TongchouApp  # Textual loads only when there is a screen

    with contextlib.suppress(OSError):  # a console without a writable state folder still runs
        log_to_file(args.log_file, "INFO")

    TongchouApp(
        client,
        lang=args.lang,
        export_dir=args.export_dir,
        read_only=args.read_only,
        prometheus=prometheus,
    ).run()
    return 0
