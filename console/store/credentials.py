"""Join tokens, console users and issued certificates in the store file; secrets are kept only
as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from console.store.files import make_private
from console.store.lineage import CertificateRecords, CertRecord, serial_hex
from console.store.transaction import transaction

__all__ = [
    "CertRecord",
    "CredentialError",
    "Credentials",
    "NodePlace",
    "PendingChange",
    "User",
    "serial_hex",
]

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
CREATE TABLE IF NOT EXISTS certificates (
    serial TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    lineage TEXT NOT NULL,
    parent TEXT NOT NULL,
    owner TEXT NOT NULL,
    not_before REAL NOT NULL,
    not_after REAL NOT NULL,
    issued_at REAL NOT NULL,
    issued_by TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS certificates_name ON certificates (kind, name);
CREATE INDEX IF NOT EXISTS certificates_lineage ON certificates (lineage);
CREATE TABLE IF NOT EXISTS revoked_lineages (
    lineage TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    revoked_at REAL NOT NULL,
    reason TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS revoked_names (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    before REAL NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (kind, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS enrolment_codes (
    user TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    hash TEXT NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS join_token_places (
    id TEXT PRIMARY KEY,
    division TEXT NOT NULL,
    site TEXT NOT NULL,
    cluster TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS node_places (
    node TEXT PRIMARY KEY,
    division TEXT NOT NULL,
    site TEXT NOT NULL,
    cluster TEXT NOT NULL,
    token TEXT NOT NULL,
    enrolled_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pending_changes (
    id TEXT PRIMARY KEY,
    action TEXT NOT NULL,
    user TEXT NOT NULL,
    roles TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at REAL NOT NULL
) WITHOUT ROWID;
"""

# Columns added to the users table after its first release: (name, definition).
_USER_COLUMNS = (("id", "TEXT NOT NULL DEFAULT ''"),)


class CredentialError(ValueError):
    """A token or user that is wrong, unknown, expired or used; the message says which."""


@dataclass(frozen=True, slots=True)
class User:
    name: str
    roles: tuple[str, ...]
    scope: str  # division code of the subtree; "" for the whole fleet
    id: str = ""  # the account record: a re-created name is another record


@dataclass(frozen=True, slots=True)
class NodePlace:
    """Where a join token says its node is; recorded for the node when it joins with it."""

    division: str
    site: str
    cluster: str


@dataclass(frozen=True, slots=True)
class PendingChange:
    """A change to an administrator's or auditor's account, waiting for a second admin."""

    id: str
    action: str  # "grant" (set roles) or "delete"
    user: str
    roles: tuple[str, ...]
    requested_by: str
    requested_at: float


def _hash(secret: str) -> str:
    # Tokens carry 192 random bits: a plain SHA-256 cannot be reversed by guessing.
    return hashlib.sha256(secret.encode()).hexdigest()


def _roles(text: str) -> tuple[str, ...]:
    return tuple(filter(None, text.split(",")))


class Credentials(CertificateRecords):
    """Its own connection to the store file (the hub, `tongchou token` and `tongchou user`
    share it; SQLite serialises the writes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        make_private(path)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(CREDENTIALS_SCHEMA)
        have = {row[1] for row in self._db.execute("PRAGMA table_info(users)")}
        for column, definition in _USER_COLUMNS:
            if column not in have:
                self._db.execute(f"ALTER TABLE users ADD COLUMN {column} {definition}")
        # accounts made before records had ids: each gets its own
        self._db.execute("UPDATE users SET id = lower(hex(randomblob(8))) WHERE id = ''")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- join tokens

    def create_token(
        self, node: str, ttl: float, *, now: float | None = None, place: NodePlace | None = None
    ) -> str:
        """A single-use token for `node`, valid `ttl` seconds: "<id>.<secret>". With `place`,
        the node that joins with it is bound to that division, site and cluster."""
        now = time.time() if now is None else now
        token_id, secret = secrets.token_hex(4), secrets.token_urlsafe(24)
        with self._lock, transaction(self._db):
            self._db.execute(
                "INSERT INTO join_tokens VALUES (?, ?, ?, ?, ?, NULL)",
                (token_id, _hash(secret), node, now, now + ttl),
            )
            if place is not None:
                self._db.execute(
                    "INSERT INTO join_token_places VALUES (?, ?, ?, ?)",
                    (token_id, place.division, place.site, place.cluster),
                )
        return f"{token_id}.{secret}"

    def node_places(self) -> dict[str, NodePlace]:
        """Where each node that joined with a token naming a place is."""
        with self._lock:
            rows = self._db.execute("SELECT node, division, site, cluster FROM node_places")
            return {r[0]: NodePlace(r[1], r[2], r[3]) for r in rows.fetchall()}

    def node_place(self, node: str) -> NodePlace | None:
        """Where the node's join token said it is (None when it named no place)."""
        with self._lock:
            row = self._db.execute(
                "SELECT division, site, cluster FROM node_places WHERE node = ?", (node,)
            ).fetchone()
        return NodePlace(*row) if row else None

    def _enrol_place(self, token_id: str, node: str, now: float) -> None:
        """The node's place becomes its token's (none when the token named none)."""
        self._db.execute("DELETE FROM node_places WHERE node = ?", (node,))
        self._db.execute(
            "INSERT INTO node_places SELECT ?, division, site, cluster, id, ?"
            " FROM join_token_places WHERE id = ?",
            (node, now, token_id),
        )

    def consume_token(
        self, token: str, *, node: str | None = None, now: float | None = None
    ) -> str:
        """The node a token was made for; the token is used up. With `node`, a token made for
        another node is refused and stays unused. Raises CredentialError."""
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
            if node is not None and row[1] != node:
                raise CredentialError(
                    f"the join token is for node {row[1]}, the request names {node}"
                )
            self._db.execute("UPDATE join_tokens SET used_at = ? WHERE id = ?", (now, token_id))
            self._enrol_place(token_id, str(row[1]), now)
        return str(row[1])

    # --- users

    def add_user(self, user: User) -> str:
        """Stores a user with its roles; returns its bearer token (kept only as a hash). For
        the local bootstrap of the first administrators; the API creates accounts without
        roles or credentials (`add_account`)."""
        token = "tcu_" + secrets.token_urlsafe(32)
        self._insert_user(user, _hash(token))
        return token

    def add_account(self, name: str, scope: str) -> User:
        """An account with no roles and no credential: its holder enrols to get one."""
        user = User(name, (), scope)
        # an unusable placeholder until enrolment: no token hashes to it
        return self._insert_user(user, "unset:" + secrets.token_hex(16))

    def _insert_user(self, user: User, token_hash: str) -> User:
        record = User(user.name, user.roles, user.scope, secrets.token_hex(8))
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO users (name, roles, scope, token_hash, created_at, id)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        user.name,
                        ",".join(user.roles),
                        user.scope,
                        token_hash,
                        time.time(),
                        record.id,
                    ),
                )
            except sqlite3.IntegrityError:
                raise CredentialError(f"user {user.name!r} already exists") from None
        return record

    def set_roles(self, name: str, roles: tuple[str, ...]) -> bool:
        with self._lock:
            done = self._db.execute(
                "UPDATE users SET roles = ? WHERE name = ?", (",".join(roles), name)
            )
            return done.rowcount > 0

    def delete_user(self, name: str) -> bool:
        """Removes a user, its enrolment code, and (by revocation) every certificate of it."""
        with self._lock:
            gone = self._db.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount > 0
            self._db.execute("DELETE FROM enrolment_codes WHERE user = ?", (name,))
        if gone:
            self.revoke_name("user", name, "user deleted")
        return gone

    def users(self) -> list[User]:
        with self._lock:
            rows = self._db.execute(
                "SELECT name, roles, scope, id FROM users ORDER BY name"
            ).fetchall()
        return [User(r[0], _roles(r[1]), r[2], r[3]) for r in rows]

    def user(self, name: str) -> User | None:
        with self._lock:
            row = self._db.execute(
                "SELECT name, roles, scope, id FROM users WHERE name = ?", (name,)
            ).fetchone()
        return User(row[0], _roles(row[1]), row[2], row[3]) if row else None

    def user_by_token(self, token: str) -> User | None:
        with self._lock:
            row = self._db.execute(
                "SELECT name, roles, scope, id FROM users WHERE token_hash = ?", (_hash(token),)
            ).fetchone()
        return User(row[0], _roles(row[1]), row[2], row[3]) if row else None

    # --- enrolment: a one-time code delivered to the user, exchanged for a credential

    def issue_enrolment_code(self, name: str, ttl: float, *, now: float | None = None) -> str:
        """A one-time code for user `name` (replacing any earlier one). Raises CredentialError."""
        now = time.time() if now is None else now
        user = self.user(name)
        if user is None:
            raise CredentialError(f"no user {name!r}")
        code = "tce_" + secrets.token_urlsafe(24)
        with self._lock:
            self._db.execute(
                "INSERT INTO enrolment_codes VALUES (?, ?, ?, ?) ON CONFLICT (user) DO UPDATE"
                " SET owner = excluded.owner, hash = excluded.hash,"
                " expires_at = excluded.expires_at",
                (name, user.id, _hash(code), now + ttl),
            )
        return code

    def enrol(self, name: str, code: str, *, now: float | None = None) -> tuple[User, str]:
        """Uses up a user's enrolment code; returns the user and a new bearer token (which
        replaces any earlier one). Raises CredentialError."""
        now = time.time() if now is None else now
        token = "tcu_" + secrets.token_urlsafe(32)
        with self._lock, transaction(self._db):
            row = self._db.execute(
                "SELECT e.hash, e.expires_at, e.owner, u.id FROM enrolment_codes e"
                " JOIN users u ON u.name = e.user WHERE e.user = ?",
                (name,),
            ).fetchone()
            if row is None or not hmac.compare_digest(row[0], _hash(code)):
                raise CredentialError(f"the enrolment code for {name!r} is not valid")
            if row[1] <= now or row[2] != row[3]:
                raise CredentialError(f"the enrolment code for {name!r} has expired")
            self._db.execute("DELETE FROM enrolment_codes WHERE user = ?", (name,))
            self._db.execute("UPDATE users SET token_hash = ? WHERE name = ?", (_hash(token), name))
        user = self.user(name)
        assert user is not None
        return user, token

    # --- changes that need a second administrator

    def propose(
        self, action: str, user: str, roles: tuple[str, ...], requested_by: str
    ) -> PendingChange:
        change = PendingChange(secrets.token_hex(6), action, user, roles, requested_by, time.time())
        with self._lock:
            self._db.execute(
                "INSERT INTO pending_changes VALUES (?, ?, ?, ?, ?, ?)",
                (change.id, action, user, ",".join(roles), requested_by, change.requested_at),
            )
        return change

    def pending(self) -> list[PendingChange]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM pending_changes ORDER BY requested_at"
            ).fetchall()
        return [PendingChange(r[0], r[1], r[2], _roles(r[3]), r[4], r[5]) for r in rows]

    def take_pending(self, change_id: str) -> PendingChange | None:
        """Removes and returns a pending change (None when there is no such change)."""
        with self._lock:
            row = self._db.execute(
                "DELETE FROM pending_changes WHERE id = ? RETURNING *", (change_id,)
            ).fetchone()
        if row is None:
            return None
        return PendingChange(row[0], row[1], row[2], _roles(row[3]), row[4], row[5])
