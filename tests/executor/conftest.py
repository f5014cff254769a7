"""Emulated Kubernetes clusters for the executor's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
