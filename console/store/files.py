"""Store files readable by their owner only: the database and its -wal and -shm companions."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

SUFFIXES = ("", "-wal", "-shm", "-journal")


def make_private(path: Path) -> None:
    """Creates `path` (mode 0600) when it does not exist, and sets 0600 on it and on SQLite's
    companion files that exist; SQLite gives new -wal and -shm files the database's mode."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for suffix in SUFFIXES:
        # a file of another owner (shared by group) keeps its mode: only its owner may change it
        with contextlib.suppress(FileNotFoundError, PermissionError):
            os.chmod(path.with_name(path.name + suffix), 0o600)
