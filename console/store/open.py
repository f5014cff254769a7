"""Opens the store a `--store` value names: a SQLite file (default) or a `postgresql://` URL."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from console.store.base import InventoryStore
from console.store.sql import Database, DbError
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


def tables_of(store: InventoryStore) -> Path | Database:
    """Where a store's security and executor tables are: the SQLite file (each user opens
    its own connection), or a new Database (a small pool) on the PostgreSQL store."""
    if isinstance(store, SqliteStore):
        return store.path
    from console.store.postgres import PostgresStore
    from console.store.postgres_db import security_database

    if not isinstance(store, PostgresStore):
        raise StoreError(f"{type(store).__name__}: a store without security tables")
    return security_database(store)


def open_tables(
    target: str | Path,
    *,
    password_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    must_exist: bool = True,
) -> Path | Database:
    """The security tables a command's `--store` names (a SQLite file, or a PostgreSQL URL
    with its password from a file or the environment), for `tongchou user`, `token`, `ca`
    and `audit`. A SQLite file must exist (the hub makes it) unless `must_exist` is False."""
    text = str(target)
    if is_postgres(text):
        from console.store.postgres import redact
        from console.store.postgres_db import PostgresDatabase

        try:
            return PostgresDatabase(
                text,
                password=store_password(password_file, environ),
                application_name="tongchou-admin",
            )
        except DbError as err:
            raise StoreError(f"{redact(text)}: cannot open the PostgreSQL store: {err}") from None
    if password_file is not None:
        raise StoreError(f"--store-password-file {password_file}: only for a postgresql:// store")
    path = Path(text)
    if must_exist and not path.is_file():
        raise StoreError(f"{path}: no such store file (start the hub once to create it)")
    return path
