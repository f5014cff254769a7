"""The audit chain's records and the walk that checks each record's link and hash."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from console.store.audit_keys import chain_hash

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    at: str
    actor: str
    role: str
    scope: str
    action: str
    object: str
    outcome: str
    digest: str
    detail: str
    prev: str
    hash: str

    def expected_hash(self, key: bytes) -> str:
        return chain_hash(key, self.seq, self.at, self._fields(), self.prev)

    def _fields(self) -> tuple[str, ...]:
        return (
            self.actor,
            self.role,
            self.scope,
            self.action,
            self.object,
            self.outcome,
            self.digest,
            self.detail,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The result of checking the chain: `bad_seq` is the first record that does not hold."""

    ok: bool
    records: int
    bad_seq: int | None = None
    problem: str = ""
    head: str = GENESIS


class ChainWalk:
    """Walks records in order from an anchor (`seq`, `prev`), possibly in several stretches:
    each record must come next, link to the one before and match its hash."""

    def __init__(self, key: bytes, seq: int, prev: str) -> None:
        self.key = key
        self.seq = seq
        self.prev = prev
        self.count = 0
        self.pruned_to = 0  # the newest record an `audit.prune` record says it removed

    def follow(self, records: Iterable[AuditRecord]) -> Verdict | None:
        """Walks on; the verdict on the first record that does not hold, else None."""
        for record in records:
            self.count += 1
            seq, prev, count = self.seq, self.prev, self.count
            if record.seq != seq + 1:
                problem = (
                    f"record {seq + 1} is missing (the next record is {record.seq})"
                    if record.seq > seq + 1
                    else f"record {record.seq} is out of order after record {seq}"
                )
                return Verdict(False, count, min(record.seq, seq + 1), problem, prev)
            if record.prev != prev:
                return Verdict(
                    False,
                    count,
                    record.seq,
                    f"record {record.seq} does not follow the record before it "
                    "(its link to the previous hash is broken: a record was inserted or deleted)",
                    prev,
                )
            if record.expected_hash(self.key) != record.hash:
                return Verdict(
                    False,
                    count,
                    record.seq,
                    f"record {record.seq} was modified (its contents do not match its hash)",
                    prev,
                )
            self.seq, self.prev = record.seq, record.hash
            tail = record.object.removeprefix("audit/1-")
            if record.action == "audit.prune" and tail.isdigit():
                self.pruned_to = int(tail)
        return None
