"""Join tokens and console users in the store file; secrets are kept only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from console.store.transaction import transaction

CREDENTIALS_SCHEMA = """
CREATE TABLE IF NOT EXISTS join_tokens (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    node TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    used_at REAL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS revoked_certs (
    serial TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    revoked_at REAL NOT NULL,
    reason TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    roles TEXT NOT NULL,
    scope TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL
) WITHOUT ROWID;
"""


class CredentialError(ValueError):
    """A token or user that is wrong, unknown, expired or used; the message says which."""


@dataclass(frozen=True, slots=True)
class User:
    name: str
    roles: tuple[str, ...]
    scope: str  # division code of the subtree; "" for the whole fleet


def _hash(secret: str) -> str:
    # Tokens carry 192 random bits: a plain SHA-256 cannot be reversed by guessing.
    return hashlib.sha256(secret.encode()).hexdigest()


class Credentials:
    """Its own connection to the store file (the hub, `tongchou token` and `tongchou user`
    share it; SQLite serialises the writes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(CREDENTIALS_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- join tokens

    def create_token(self, node: str, ttl: float, *, now: float | None = None) -> str:
        """A single-use token for `node`, valid `ttl` seconds: "<id>.<secret>"."""
        now = time.time() if now is None else now
        token_id, secret = secrets.token_hex(4), secrets.token_urlsafe(24)
        with self._lock:
            self._db.execute(
                "INSERT INTO join_tokens VALUES (?, ?, ?, ?, ?, NULL)",
                (token_id, _hash(secret), node, now, now + ttl),
            )
        return f"{token_id}.{secret}"

    def consume_token(self, token: str, *, now: float | None = None) -> str:
        """The node a token was made for; the token is used up. Raises CredentialError."""
        now = time.time() if now is None else now
        token_id, sep, secret = token.partition(".")
        if not sep or not token_id or not secret or len(token) > 200:
            raise CredentialError("the join token is malformed (expected <id>.<secret>)")
        with self._lock, transaction(self._db):
            row = self._db.execute(
                "SELECT hash, node, expires_at, used_at FROM join_tokens WHERE id = ?",
                (token_id,),
            ).fetchone()
            if row is None or not hmac.compare_digest(row[0], _hash(secret)):
                raise CredentialError("the join token is not known")
            if row[3] is not None:
                raise CredentialError("the join token was already used")
            if row[2] <= now:
                raise CredentialError("the join token has expired")
            self._db.execute("UPDATE join_tokens SET used_at = ? WHERE id = ?", (now, token_id))
        return str(row[1])

    # --- revoked certificates

    def revoke(self, serial: int, name: str, reason: str) -> bool:
        """Marks a certificate revoked; False when it already was."""
        with self._lock:
            done = self._db.execute(
                "INSERT OR IGNORE INTO revoked_certs VALUES (?, ?, ?, ?)",
                (str(serial), name, time.time(), reason),
            )
            return done.rowcount > 0

    def is_revoked(self, serial: int) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM revoked_certs WHERE serial = ?", (str(serial),)
            ).fetchone()
        return row is not None

    # --- users

    def add_user(self, user: User) -> str:
        """Stores a user; returns its bearer token (kept only as a hash)."""
        token = "tcu_" + secrets.token_urlsafe(32)
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO users VALUES (?, ?, ?, ?, ?)",
                    (user.name, ",".join(user.roles), user.scope, _hash(token), time.time()),
                )
            except sqlite3.IntegrityError:
                raise CredentialError(f"user {user.name!r} already exists") from None
        return token

    def delete_user(self, name: str) -> bool:
        with self._lock:
            return self._db.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount > 0

    def users(self) -> list[User]:
        with self._lock:
            rows = self._db.execute("SELECT name, roles, scope FROM users ORDER BY name").fetchall()
        return [User(r[0], tuple(filter(None, r[1].split(","))), r[2]) for r in rows]

    def user(self, name: str) -> User | None:
        with self._lock:
            row = self._db.execute(
                "SELECT name, roles, scope FROM users WHERE name = ?", (name,)
            ).fetchone()
        return User(row[0], tuple(filter(None, row[1].split(","))), row[2]) if row else None

    def user_by_token(self, token: str) -> User | None:
        with self._lock:
            row = self._db.execute(
                "SELECT name, roles, scope FROM users WHERE token_hash = ?", (_hash(token),)
            ).fetchone()
        return User(row[0], tuple(filter(None, row[1].split(","))), row[2]) if row else None
