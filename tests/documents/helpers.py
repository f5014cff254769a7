"""Helpers for the document loader tests: a small valid fleet and error assertions."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from console.documents import DocumentError, LoadError, load_documents

BASE = """\
apiVersion: tongchou.io/v1
kind: Division
metadata: {name: "440000"}
spec: {name: 广东省, level: province}
---
apiVersion: tongchou.io/v1
kind: Division
metadata: {name: "440100"}
spec: {name: 广州市, level: city, parent: "440000"}
---
apiVersion: tongchou.io/v1
kind: Division
metadata: {name: "440106"}
spec: {name: 天河区, level: county, parent: "440100"}
---
apiVersion: tongchou.io/v1
kind: Site
metadata: {name: gz-dc}
spec: {division: "440100", provider: huawei-cloud, pue: 1.4, powerPriceCnyPerKwh: 0.68}
---
apiVersion: tongchou.io/v1
kind: Cluster
metadata: {name: gz-gov}
spec: {site: gz-dc, mlpsLevel: 3, shared: true}
"""
"""Three divisions, a site and a cluster: documents 1 to 5 of a file that starts with it."""

Writer = Callable[[str, str], Path]
"""Writes dedented YAML text to a file under tmp_path and returns its path."""


def line_of(path: Path, needle: str) -> int:
    """The 1-based number of the last line in `path` that contains `needle`."""
    lines = [i for i, t in enumerate(path.read_text("utf-8").splitlines(), 1) if needle in t]
    assert lines, f"{needle!r} not found in {path}"
    return lines[-1]


def errors_of(*paths: Path) -> list[DocumentError]:
    """The errors that loading `paths` reports; fails the test when it loads cleanly."""
    with pytest.raises(LoadError) as caught:
        load_documents(list(paths))
    return caught.value.errors


def only_error(*paths: Path) -> DocumentError:
    errors = errors_of(*paths)
    assert len(errors) == 1, "\n".join(map(str, errors))
    return errors[0]


def with_base(text: str) -> str:
    """BASE followed by the dedented documents of `text` (which become documents 6, 7, …)."""
    return BASE + "---\n" + textwrap.dedent(text).lstrip("\n")
