"""Opens the store a `--store` value names: a SQLite file (default) or a `postgresql://` URL."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from console.store.base import InventoryStore
from console.store.sqlite import SqliteStore, StoreError

PASSWORD_ENV = "TONGCHOU_STORE_PASSWORD"
PASSWORD_FILE_ENV = "TONGCHOU_STORE_PASSWORD_FILE"
SCHEMES = ("postgresql://", "postgres://")


def is_postgres(target: str) -> bool:
    return target.startswith(SCHEMES)


def store_password(
    password_file: Path | None, environ: Mapping[str, str] | None = None
) -> str | None:
    """The PostgreSQL password: from `--store-password-file` (or `$TONGCHOU_STORE_PASSWORD_FILE`),
    else `$TONGCHOU_STORE_PASSWORD`; None leaves it to the URL, `$PGPASSWORD` or `~/.pgpass`."""
    env = os.environ if environ is None else environ
    if password_file is None and env.get(PASSWORD_FILE_ENV):
        password_file = Path(env[PASSWORD_FILE_ENV])
    if password_file is not None:
        try:
            text = password_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise StoreError(f"{password_file}: cannot read the store password: {err}") from None
        password = text.rstrip("\r\n")
        if not password:
            raise StoreError(f"{password_file}: the store password file is empty")
        return password
    return env.get(PASSWORD_ENV) or None


def open_store(
    target: str | Path,
    *,
    password_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> InventoryStore:
    """A SqliteStore for a path, a PostgresStore (migrated to the current schema) for a URL."""
    text = str(target)
    if is_postgres(text):
        from console.store.postgres import PostgresStore

        return PostgresStore(text, password=store_password(password_file, environ))
    if password_file is not None:
        raise StoreError(f"--store-password-file {password_file}: only for a postgresql:// store")
    return SqliteStore(Path(text))
