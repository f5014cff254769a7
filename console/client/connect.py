"""A client from the command line: the transport-security flags, and the client they open."""

from __future__ import annotations

import argparse

from console.client import HubClient
from console.security.tls import add_client_arguments, client_credentials

__all__ = ["add_client_arguments", "open_client"]


def open_client(address: str, args: argparse.Namespace) -> HubClient:
    """A client of the hub at `address` with the credentials the flags name; ValueError says
    what is wrong with them (a missing file, flags that exclude each other)."""
    return HubClient(address, client_credentials(args))
