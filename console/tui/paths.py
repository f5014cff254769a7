"""Where the console keeps what it writes: exports and its log, under the state directory."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path


def state_home() -> Path:
    """`$XDG_STATE_HOME/tongchou` (default `~/.local/state/tongchou`)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "tongchou"


def export_path(folder: Path, what: str, suffix: str) -> Path:
    """`<folder>/<what>-2026-11-30T10-31-05.<suffix>`: sorts by time, readable, no colons."""
    stamp = dt.datetime.now().strftime("%Y-%m-%dT%H-%M-%S")
    return folder / f"{what}-{stamp}.{suffix}"


def write_export(path: Path, content: str) -> None:
    """Writes an export, making its folder; OSError says what failed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
