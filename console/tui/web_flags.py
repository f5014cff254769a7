"""The flags of `tongchou console --web` (kept apart so a terminal console never loads the
web server's libraries)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

DEFAULT_LISTEN = "127.0.0.1:8470"
WEB_DRIVER = "textual.drivers.web_driver:WebDriver"


def add_web_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("web (the console in a browser)")
    group.add_argument(
        "--web", action="store_true", help="serve the console to browsers instead of this terminal"
    )
    group.add_argument(
        "--web-listen",
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help=f"address of the web server (default {DEFAULT_LISTEN}: this machine only; port 0 "
        "picks a free one)",
    )
    group.add_argument(
        "--web-password-file",
        type=Path,
        help="file whose first line is the password browsers must give (HTTP basic "
        "authentication, any user name); required with --web",
    )
    group.add_argument("--web-tls-cert", type=Path, help="HTTPS certificate chain (PEM)")
    group.add_argument("--web-tls-key", type=Path, help="HTTPS private key (PEM)")
    group.add_argument(
        "--web-public-url",
        default="",
        help="the URL browsers reach this server at, when it differs from --web-listen "
        "(behind a proxy, or listening on 0.0.0.0)",
    )


def running_in_browser() -> bool:
    """True in a console process that textual-serve started for a browser tab."""
    return os.environ.get("TEXTUAL_DRIVER", "") == WEB_DRIVER
