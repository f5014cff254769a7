"""The audit chain's witness: an append-only file of the chain's head, kept apart from the
store, so that a store wiped, truncated or rolled back to an older copy is found."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import time
from collections.abc import Callable
from pathlib import Path


class WitnessError(ValueError):
    """A witness line that was not written with the audit key."""


def default_witness_path(key: Path) -> Path:
    """The witness lives beside the audit key, apart from the store."""
    return key.with_name(key.name + ".witness")


def witness_mac(key: bytes, seq: int, hash_: str) -> str:
    return hmac.new(key, f"witness|{seq}|{hash_}".encode(), hashlib.sha256).hexdigest()


class Witness:
    """An append-only file of the chain's head, one line `seq hash mac` at a time, kept apart
    from the store: a store wiped, truncated or rolled back to an older copy no longer reaches
    the head the witness saw. The lines are MACed with the audit key."""

    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self.key = key
        self.last_written = 0.0

    def exists(self) -> bool:
        return self.path.exists()

    def create(self) -> None:
        with contextlib.suppress(FileExistsError):
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))

    def append(self, seq: int, hash_: str) -> None:
        """Appends the head (the file must exist: a missing witness is not silently renewed)."""
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, f"{seq} {hash_} {witness_mac(self.key, seq, hash_)}\n".encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        self.last_written = time.monotonic()

    def last(self) -> tuple[int, str] | None:
        """The newest head witnessed; None when none was. Raises AuditError on a forged line."""
        with self.path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 4096))
            lines = f.read().decode("ascii", "replace").splitlines()
        for line in reversed(lines[1:] if size > 4096 else lines):
            parts = line.split()
            if len(parts) != 3 or not parts[0].isdigit():
                continue  # a line cut short by a crash
            seq, hash_, mac = int(parts[0]), parts[1], parts[2]
            if not hmac.compare_digest(mac, witness_mac(self.key, seq, hash_)):
                raise WitnessError(f"{self.path}: the witnessed head {seq} was forged")
            return seq, hash_
        return None

    def check(
        self, seq: int, hash_at: Callable[[int], str | None]
    ) -> tuple[int | None, str] | None:
        """What is wrong with a chain that ends at record `seq` (`hash_at` gives a record's
        hash, None when it is gone), held against this witness: (first bad record, problem),
        or None when the chain reaches what the witness saw."""
        if not self.exists():
            if seq == 0:
                return None
            return None, (
                f"the witness {self.path} is missing: the log cannot be checked against a wipe "
                "or a rollback (`tongchou audit witness-reset` starts a new one)"
            )
        try:
            seen = self.last()
        except (WitnessError, OSError) as err:
            return None, str(err)
        if seen is None:
            return None
        w_seq, w_hash = seen
        if w_seq > seq:
            what = "were wiped" if seq == 0 else "were removed or rolled back to an older copy"
            return seq + 1, (
                f"the log ends at record {seq}, but its witness saw record {w_seq}: "
                f"{w_seq - seq} records {what}"
            )
        known = hash_at(w_seq)
        if known is not None and known != w_hash:
            return w_seq, (
                f"record {w_seq} is not the one the witness saw: the log was rolled back and "
                "rewritten"
            )
        return None
