"""Join tokens, console users and issued certificates in the store file; secrets are kept only
as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from console.store.lineage import CertificateRecords, CertRecord, serial_hex
from console.store.places import PLACES_SCHEMA, NodePlace, enrol_place, places_of
from console.store.sql import Database, DbError, DbIntegrityError, SqliteDatabase, database_of

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
CREATE TABLE IF NOT EXISTS pending_changes (
    id TEXT PRIMARY KEY,
    action TEXT NOT NULL,
    user TEXT NOT NULL,
    roles TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at REAL NOT NULL
) WITHOUT ROWID;
"""

_PENDING = 'id, action, "user", roles, requested_by, requested_at'

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
    """Its own connection to the store (the hub, `tongchou token` and `tongchou user` share
    it; the database serialises the writes)."""

    def __init__(self, store: Path | Database) -> None:
        try:
            self.db = database_of(store, CREDENTIALS_SCHEMA + PLACES_SCHEMA)
            if isinstance(self.db, SqliteDatabase):
                self._upgrade_sqlite(self.db)
        except DbError as err:
            raise CredentialError(f"{store}: cannot open the credentials: {err}") from None
        self.path = self.db.where

    @staticmethod
    def _upgrade_sqlite(db: SqliteDatabase) -> None:
        """Columns a store file made by an older release lacks."""
        with db.session() as s:
            have = {row[1] for row in s.all("PRAGMA table_info(users)")}
            for column, definition in _USER_COLUMNS:
                if column not in have:
                    s.execute(f"ALTER TABLE users ADD COLUMN {column} {definition}")
            # accounts made before records had ids: each gets its own
            s.execute("UPDATE users SET id = lower(hex(randomblob(8))) WHERE id = ''")

    def close(self) -> None:
        self.db.close()

    # --- join tokens

    def create_token(
        self, node: str, ttl: float, *, now: float | None = None, place: NodePlace | None = None
    ) -> str:
        """A single-use token for `node`, valid `ttl` seconds: "<id>.<secret>". With `place`,
        the node that joins with it is bound to that division, site and cluster."""
        now = time.time() if now is None else now
        token_id, secret = secrets.token_hex(4), secrets.token_urlsafe(24)
        with self.db.transaction() as s:
            s.execute(
                "INSERT INTO join_tokens VALUES (?, ?, ?, ?, ?, NULL)",
                (token_id, _hash(secret), node, now, now + ttl),
            )
            if place is not None:
                s.execute(
                    "INSERT INTO join_token_places VALUES (?, ?, ?, ?)",
                    (token_id, place.division, place.site, place.cluster),
                )
        return f"{token_id}.{secret}"

    def node_places(self) -> dict[str, NodePlace]:
        """Where each node that joined with a token naming a place is."""
        with self.db.session() as s:
            return places_of(s)

    def node_place(self, node: str) -> NodePlace | None:
        """Where the node's join token said it is (None when it named no place)."""
        with self.db.session() as s:
            return places_of(s, node).get(node)

    def consume_token(
        self, token: str, *, node: str | None = None, now: float | None = None
    ) -> str:
        """The node a token was made for; the token is used up. With `node`, a token made for
        another node is refused and stays unused. Raises CredentialError."""
        now = time.time() if now is None else now
        token_id, sep, secret = token.partition(".")
        if not sep or not token_id or not secret or len(token) > 200:
            raise CredentialError("the join token is malformed (expected <id>.<secret>)")
        with self.db.transaction() as s:
            row = s.one(
                "SELECT hash, node, expires_at, used_at FROM join_tokens WHERE id = ?",
                (token_id,),
            )
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
            # used once even when two hub replicas take it at the same moment
            used = s.execute(
                "UPDATE join_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL",
                (now, token_id),
            )
            if used.rowcount != 1:
                raise CredentialError("the join token was already used")
            enrol_place(s, token_id, str(row[1]), now)
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
        try:
            with self.db.session() as s:
                s.execute(
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
        except DbIntegrityError:
            raise CredentialError(f"user {user.name!r} already exists") from None
        return record

    def set_roles(self, name: str, roles: tuple[str, ...]) -> bool:
        with self.db.session() as s:
            done = s.execute("UPDATE users SET roles = ? WHERE name = ?", (",".join(roles), name))
            return done.rowcount > 0

    def delete_user(self, name: str) -> bool:
        """Removes a user, its enrolment code, and (by revocation) every certificate of it."""
        with self.db.transaction() as s:
            gone = s.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount > 0
            s.execute('DELETE FROM enrolment_codes WHERE "user" = ?', (name,))
        if gone:
            self.revoke_name("user", name, "user deleted")
        return gone

    def users(self) -> list[User]:
        with self.db.session() as s:
            rows = s.all("SELECT name, roles, scope, id FROM users ORDER BY name")
        return [User(r[0], _roles(r[1]), r[2], r[3]) for r in rows]

    def user(self, name: str) -> User | None:
        with self.db.session() as s:
            row = s.one("SELECT name, roles, scope, id FROM users WHERE name = ?", (name,))
        return User(row[0], _roles(row[1]), row[2], row[3]) if row else None

    def user_by_token(self, token: str) -> User | None:
        with self.db.session() as s:
            row = s.one(
                "SELECT name, roles, scope, id FROM users WHERE token_hash = ?", (_hash(token),)
            )
        return User(row[0], _roles(row[1]), row[2], row[3]) if row else None

    # --- enrolment: a one-time code delivered to the user, exchanged for a credential

    def issue_enrolment_code(self, name: str, ttl: float, *, now: float | None = None) -> str:
        """A one-time code for user `name` (replacing any earlier one). Raises CredentialError."""
        now = time.time() if now is None else now
        user = self.user(name)
        if user is None:
            raise CredentialError(f"no user {name!r}")
        code = "tce_" + secrets.token_urlsafe(24)
        with self.db.session() as s:
            s.execute(
                'INSERT INTO enrolment_codes VALUES (?, ?, ?, ?) ON CONFLICT ("user") DO UPDATE'
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
        with self.db.transaction() as s:
            row = s.one(
                "SELECT e.hash, e.expires_at, e.owner, u.id FROM enrolment_codes e"
                ' JOIN users u ON u.name = e."user" WHERE e."user" = ?',
                (name,),
            )
            if row is None or not hmac.compare_digest(row[0], _hash(code)):
                raise CredentialError(f"the enrolment code for {name!r} is not valid")
            if row[1] <= now or row[2] != row[3]:
                raise CredentialError(f"the enrolment code for {name!r} has expired")
            # the code is used once even when two hub replicas take it at the same moment
            taken = s.execute(
                'DELETE FROM enrolment_codes WHERE "user" = ? AND hash = ?', (name, row[0])
            )
            if taken.rowcount != 1:
                raise CredentialError(f"the enrolment code for {name!r} is not valid")
            s.execute("UPDATE users SET token_hash = ? WHERE name = ?", (_hash(token), name))
        user = self.user(name)
        assert user is not None
        return user, token

    # --- changes that need a second administrator

    def propose(
        self, action: str, user: str, roles: tuple[str, ...], requested_by: str
    ) -> PendingChange:
        change = PendingChange(secrets.token_hex(6), action, user, roles, requested_by, time.time())
        with self.db.session() as s:
            s.execute(
                "INSERT INTO pending_changes VALUES (?, ?, ?, ?, ?, ?)",
                (change.id, action, user, ",".join(roles), requested_by, change.requested_at),
            )
        return change

    def pending(self) -> list[PendingChange]:
        with self.db.session() as s:
            rows = s.all(f"SELECT {_PENDING} FROM pending_changes ORDER BY requested_at")
        return [PendingChange(r[0], r[1], r[2], _roles(r[3]), r[4], r[5]) for r in rows]

    def take_pending(self, change_id: str) -> PendingChange | None:
        """Removes and returns a pending change (None when there is no such change)."""
        with self.db.session() as s:
            row = s.one(
                f"DELETE FROM pending_changes WHERE id = ? RETURNING {_PENDING}", (change_id,)
            )
        if row is None:
            return None
        return PendingChange(row[0], row[1], row[2], _roles(row[3]), row[4], row[5])
