"""Fixtures for the document loader tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from .helpers import Writer


@pytest.fixture
def write(tmp_path: Path) -> Writer:
    """Writes dedented YAML text to a file under tmp_path and returns its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write
