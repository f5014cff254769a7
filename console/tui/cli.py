"""`tongchou console`: the Textual console attached to a hub."""

from __future__ import annotations

import argparse
import sys

from console.client.connect import add_client_arguments, open_client
from console.tui.app import TongchouApp


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hub", default="127.0.0.1:7470", help="hub address (127.0.0.1:7470)")
    parser.add_argument("--lang", choices=("en", "zh"), default="en", help="interface language")
    add_client_arguments(parser)


def run(args: argparse.Namespace) -> int:
    try:
        client = open_client(args.hub, args)
    except ValueError as err:  # the certificates the flags name
        print(f"tongchou console: {err}", file=sys.stderr)
        return 2
    TongchouApp(client, lang=args.lang).run()
    return 0
