"""The tamper-evident audit log: records hash-chained to the one before, in the store."""

from __future__ import annotations

import datetime as dt
import hmac
import threading
from collections.abc import Iterable, Iterator
from dataclasses import astuple, dataclass
from pathlib import Path

from console.store.audit_chain import GENESIS, AuditRecord, ChainWalk, Verdict
from console.store.audit_keys import (
    AuditError,
    chain_hash,
    default_key_path,
    digest_of,
    head_mac,
    load_key,
    months_before,
)
from console.store.sql import Database, DbError, Row, Session, database_of
from console.store.witness import Witness

__all__ = [
    "AuditEntry",
    "AuditError",
    "AuditLog",
    "AuditRecord",
    "Verdict",
    "default_key_path",
    "digest_of",
    "load_key",
    "months_before",
]
_NO_END = 2**62
# Appends on a shared (PostgreSQL) store take this transaction-scoped advisory lock first, so
# replicas appending at once still make one chain.
AUDIT_LOCK = 0x746F6E67_61756474  # "tongaudt"
DEFAULT_RETENTION_MONTHS = 6  # MLPS 2.0 level 3: logs kept at least six months
MIN_RETENTION_MONTHS = 6

AUDIT_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    scope TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    outcome TEXT NOT NULL,
    digest TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE TABLE IF NOT EXISTS audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    mac TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_anchor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    pruned_at TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What happened: who (actor, role, scope) did what (action) to what (object), and how it
    ended (outcome: ok, denied, failed, ...); `digest` is the SHA-256 of the change."""

    actor: str
    action: str
    object: str
    outcome: str
    role: str = ""
    scope: str = ""
    digest: str = ""
    detail: str = ""
    peer: str = ""  # the caller's address: not stored, used to aggregate refusals


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


_COLUMNS = "seq, at, actor, role, scope, action, object, outcome, digest, detail, prev, hash"


class AuditLog:
    """Appends and reads the chain. Its own connection to the store, so the hub, the `tongchou
    audit` command and `tongchou user` can share it; appends are serialised (SQLite's write
    lock, or an advisory lock on PostgreSQL, shared by hub replicas), so the chain never forks."""

    def __init__(
        self, store: Path | Database, key: bytes, *, witness: Witness | None = None
    ) -> None:
        try:
            self.db = database_of(store, AUDIT_SCHEMA)
        except DbError as err:
            raise AuditError(f"{store}: cannot open the audit log: {err}") from None
        self.path = self.db.where
        self.key = key
        self.witness = witness
        self._lock = threading.Lock()  # this process's appends and witness lines in order

    def close(self) -> None:
        self.db.close()

    def append(self, entry: AuditEntry, *, at: str | None = None) -> AuditRecord:
        return self.append_many((entry,), at=at)[-1]

    def append_many(
        self, entries: Iterable[AuditEntry], *, at: str | None = None, witness: bool = True
    ) -> list[AuditRecord]:
        """Appends entries in one transaction; then witnesses the new head (when `witness`)."""
        with self._lock:
            try:
                with self.db.transaction(AUDIT_LOCK) as s:
                    records = self._append_all(s, list(entries), at)
            except DbError as err:
                raise AuditError(f"{self.path}: cannot append to the audit log: {err}") from None
            if witness and records:
                self._witness(records[-1].seq, records[-1].hash)
        return records

    def _witness(self, seq: int, hash_: str) -> None:
        if self.witness is None or not self.witness.exists():
            return
        try:
            self.witness.append(seq, hash_)
        except OSError as err:
            raise AuditError(f"{self.witness.path}: cannot write the witness: {err}") from None

    def _one(self, query: str, params: tuple[object, ...] = ()) -> Row | None:
        try:
            with self.db.session() as s:
                return s.one(query, params)
        except DbError as err:
            raise AuditError(f"{self.path}: cannot read the audit log: {err}") from None

    def witness_head(self) -> None:
        """Witnesses the current head (after appends made with `witness=False`)."""
        with self._lock:
            row = self._one("SELECT seq, hash FROM audit_head WHERE id = 1")
            if row is not None:
                self._witness(int(row[0]), str(row[1]))

    def is_empty(self) -> bool:
        """True when nothing was ever appended (no record, no head, no anchor)."""
        row = self._one(
            "SELECT (SELECT COUNT(*) FROM audit_head) + (SELECT COUNT(*) FROM audit_anchor)"
            " + (SELECT COUNT(*) FROM (SELECT 1 FROM audit LIMIT 1) AS one)"
        )
        return row is not None and int(row[0]) == 0

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the newest record as the head row names it; (0, GENESIS) if none."""
        row = self._one("SELECT seq, hash FROM audit_head WHERE id = 1")
        return (int(row[0]), str(row[1])) if row is not None else (0, GENESIS)

    def _append(self, s: Session, entry: AuditEntry, at: str) -> AuditRecord:
        return self._append_all(s, [entry], at)[-1]

    def _append_all(
        self, s: Session, entries: list[AuditEntry], at: str | None
    ) -> list[AuditRecord]:
        """Inside the appending transaction: the chain's end read once, the records chained
        to it and to each other, written in one batch, and the head moved once."""
        if not entries:
            return []
        row = s.one("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        if row is None:
            row = s.one("SELECT seq, hash FROM audit_anchor WHERE id = 1")
        seq, prev = (int(row[0]), str(row[1])) if row is not None else (0, GENESIS)
        records = []
        for e in entries:
            seq, when = seq + 1, at or _now()
            fields = (e.actor, e.role, e.scope, e.action, e.object, e.outcome, e.digest, e.detail)
            hash_ = chain_hash(self.key, seq, when, fields, prev)
            records.append(AuditRecord(seq, when, *fields, prev, hash_))
            prev = hash_
        s.many(
            f"INSERT INTO audit ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [astuple(r) for r in records],  # the fields in the order of _COLUMNS
        )
        last = records[-1]
        s.execute(
            "INSERT INTO audit_head (id, seq, hash, mac) VALUES (1, ?, ?, ?) ON CONFLICT (id)"
            " DO UPDATE SET seq = excluded.seq, hash = excluded.hash, mac = excluded.mac",
            (last.seq, last.hash, head_mac(self.key, last.seq, last.hash)),
        )
        return records

    def records(
        self, *, since: str = "", after: int = 0, until: int | None = None, batch: int = 1000
    ) -> Iterator[AuditRecord]:
        """Every record in order (from `since`, an ISO time; after record `after`, up to
        record `until`, when given)."""
        last, until = after, _NO_END if until is None else until
        while True:
            try:
                with self.db.session() as s:
                    rows = s.all(
                        f"SELECT {_COLUMNS} FROM audit WHERE seq > ? AND seq <= ? AND at >= ?"
                        " ORDER BY seq LIMIT ?",
                        (last, until, since, batch),
                    )
            except DbError as err:
                raise AuditError(f"{self.path}: cannot read the audit log: {err}") from None
            if not rows:
                return
            for row in rows:
                yield AuditRecord(*row)
            last = rows[-1][0]

    def anchor(self) -> tuple[int, str]:
        """(seq, hash) of the last pruned record; (0, GENESIS) when nothing was pruned."""
        row = self._one("SELECT seq, hash FROM audit_anchor WHERE id = 1")
        return (int(row[0]), str(row[1])) if row is not None else (0, GENESIS)

    def verify(self) -> Verdict:
        """Walks the chain from the anchor: finds any edited, inserted or deleted record; then
        holds the chain's end against the witness: finds a wipe, a truncation, a rollback."""
        verdict = self.verify_chain()
        if not verdict.ok or self.witness is None:
            return verdict
        return self._verify_witness(verdict)

    def _verify_witness(self, verdict: Verdict) -> Verdict:
        assert self.witness is not None
        anchor = self.anchor()

        def hash_at(seq: int) -> str | None:
            row = self._one("SELECT hash FROM audit WHERE seq = ?", (seq,))
            return str(row[0]) if row is not None else (anchor[1] if anchor[0] == seq else None)

        found = self.witness.check(self.head()[0], hash_at)
        if found is None:
            return verdict
        return Verdict(False, verdict.records, found[0], found[1], verdict.head)

    def verify_chain(self) -> Verdict:
        """The chain alone, without the witness. It is walked up to the head as read first:
        records other writers (hub replicas) append meanwhile are for the next check."""
        anchored, prev = self.anchor()
        # the head, and the newest record, in one snapshot
        head = self._one(
            "SELECT seq, hash, mac, (SELECT MAX(seq) FROM audit) FROM audit_head WHERE id = 1"
        )
        walk = ChainWalk(self.key, anchored, prev)
        bad = walk.follow(self.records(until=int(head[0]) if head else None))
        if bad is not None:
            return bad
        seq, prev, count = walk.seq, walk.prev, walk.count
        if anchored and walk.pruned_to != anchored:
            return Verdict(
                False,
                count,
                walk.pruned_to + 1,
                f"records up to {anchored} are gone, but the log's last pruning "
                f"{'removed up to ' + str(walk.pruned_to) if walk.pruned_to else 'is not recorded'}"
                ": records were deleted outside the log",
                prev,
            )
        if head is None:
            if seq:
                return Verdict(False, count, seq, "the chain's head record is missing", prev)
            return Verdict(True, count, None, "", prev)
        if not hmac.compare_digest(head[2], head_mac(self.key, head[0], head[1])):
            return Verdict(False, count, head[0], "the chain's head was modified", prev)
        if head[0] > seq:
            return Verdict(
                False,
                count,
                seq + 1,
                f"record {seq + 1} is missing (the chain ends at {seq}, its head names {head[0]})",
                prev,
            )
        if head[0] < seq or head[1] != prev or (head[3] or 0) > head[0]:
            return Verdict(
                False,
                count,
                head[0] + 1,
                f"record {head[0] + 1} was appended outside the log",
                prev,
            )
        return Verdict(True, count, None, "", prev)

    def prune(
        self, *, months: int = DEFAULT_RETENTION_MONTHS, now: dt.datetime | None = None
    ) -> int:
        """Deletes records older than `months` calendar months; the last deleted record's hash
        becomes the anchor, and the pruning itself is appended to the chain."""
        if months < MIN_RETENTION_MONTHS:
            raise ValueError(
                f"audit retention must be at least {MIN_RETENTION_MONTHS} months, got {months}"
            )
        cutoff = months_before(now or dt.datetime.now(dt.UTC), months).isoformat(
            timespec="microseconds"
        )
        with self._lock:
            try:
                with self.db.transaction(AUDIT_LOCK) as s:
                    last = s.one(
                        "SELECT seq, hash FROM audit WHERE at < ? ORDER BY seq DESC LIMIT 1",
                        (cutoff,),
                    )
                    # never prune the newest record: the chain's head stays in the table
                    newest = s.one("SELECT MAX(seq) FROM audit")
                    if last is None or newest is None or last[0] >= newest[0]:
                        return 0
                    deleted = s.execute("DELETE FROM audit WHERE seq <= ?", (last[0],)).rowcount
                    s.execute(
                        "INSERT INTO audit_anchor (id, seq, hash, pruned_at) VALUES (1, ?, ?, ?)"
                        " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq,"
                        " hash = excluded.hash, pruned_at = excluded.pruned_at",
                        (last[0], last[1], _now()),
                    )
                    self._append(
                        s,
                        AuditEntry(
                            "hub",
                            "audit.prune",
                            f"audit/1-{last[0]}",
                            "ok",
                            detail=f"pruned {deleted} records before {cutoff}; anchor {last[1]}",
                        ),
                        _now(),
                    )
            except DbError as err:
                raise AuditError(f"{self.path}: cannot prune the audit log: {err}") from None
        return int(deleted)
