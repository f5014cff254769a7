"""Emulated Kubernetes clusters for the executor's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Launcher
from tests.executor.emulator import EmulatedCluster


@pytest.fixture
def clusters() -> Iterator[dict[str, EmulatedCluster]]:
    """Two emulated clusters, `gz-a` and `sz-b`, serving on loopback."""
    out = {name: EmulatedCluster(name) for name in ("gz-a", "sz-b")}
    for cluster in out.values():
        cluster.start()
    try:
        yield out
    finally:
        for cluster in out.values():
            cluster.close()


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Launcher]:
    """Real tongchou processes (hub, simulators) under tmp_path, stopped at the end."""
    launcher = Launcher(tmp_path)
    try:
        yield launcher
    finally:
        launcher.close()
