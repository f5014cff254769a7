"""The audit log's key and hashes: the HMAC key file, the chain and head MACs, and the
calendar arithmetic of retention."""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path


class AuditError(RuntimeError):
    """The audit log cannot be read or written."""


def digest_of(change: str | bytes) -> str:
    data = change.encode() if isinstance(change, str) else change
    return hashlib.sha256(data).hexdigest()


def chain_hash(key: bytes, seq: int, at: str, fields: tuple[str, ...], prev: str) -> str:
    """HMAC-SHA256 over the record and the previous record's hash: without the key, a record
    cannot be forged, edited or inserted so that the chain still verifies."""
    text = json.dumps([seq, at, *fields, prev], ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def head_mac(key: bytes, seq: int, hash_: str) -> str:
    return hmac.new(key, f"head|{seq}|{hash_}".encode(), hashlib.sha256).hexdigest()


def load_key(path: Path, *, create: bool = False) -> bytes:
    """The audit key (32 random bytes, hex) from `path`; created (0600) when asked to."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        if not create:
            raise AuditError(f"{path}: the audit key does not exist") from None
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(key.hex() + "\n")
        return key
    except (OSError, UnicodeDecodeError) as err:
        raise AuditError(f"{path}: cannot read the audit key: {err}") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise AuditError(f"{path}: the audit key is not hex") from None
    if len(key) < 16:
        raise AuditError(f"{path}: the audit key is shorter than 16 bytes")
    return key


def default_key_path(store: Path) -> Path:
    return store.with_name(store.name + ".audit-key")


def months_before(when: dt.datetime, months: int) -> dt.datetime:
    """The same day and time `months` calendar months earlier (clamped to the month's end)."""
    index = when.year * 12 + when.month - 1 - months
    year, month = divmod(index, 12)
    day = min(when.day, calendar.monthrange(year, month + 1)[1])
    return when.replace(year=year, month=month + 1, day=day)
