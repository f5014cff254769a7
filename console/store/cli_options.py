"""The store's command-line options (`--store`, `--store-password-file`), for the hub."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path

from console.store.base import InventoryStore
from console.store.open import open_store

STORE_ENV = "TONGCHOU_STORE"
DEFAULT_STORE = "tongchou-hub.db"


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        default=None,
        help=(
            "a SQLite file (the default, tongchou-hub.db) or a postgresql:// URL shared by hub"
            f" replicas; default ${STORE_ENV}. Keep the password out of the URL: use"
            " --store-password-file or $TONGCHOU_STORE_PASSWORD"
        ),
    )
    parser.add_argument(
        "--store-password-file",
        type=Path,
        help="file holding the PostgreSQL store's password (e.g. a mounted Secret)",
    )


def store_target(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> str:
    """`--store`, else `$TONGCHOU_STORE`, else the default SQLite file."""
    env = os.environ if environ is None else environ
    return str(args.store or env.get(STORE_ENV) or DEFAULT_STORE)


def store_from_args(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> InventoryStore:
    """Opens (and for PostgreSQL, migrates) the store; StoreError says what is wrong."""
    return open_store(
        store_target(args, environ), password_file=args.store_password_file, environ=environ
    )
