"""`tongchou console`: the Textual console attached to a hub."""

from __future__ import annotations

import argparse

from console.client import HubClient
from console.tui.app import TongchouApp


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hub", default="127.0.0.1:7470", help="hub address (127.0.0.1:7470)")
    parser.add_argument("--lang", choices=("en", "zh"), default="en", help="interface language")


def run(args: argparse.Namespace) -> int:
    client = HubClient(args.hub)
    TongchouApp(client, lang=args.lang).run()
    return 0
