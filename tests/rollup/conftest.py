"""A province's fleet, a platform catalog, and launchers for national and province hubs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Launcher
from tests.relay.conftest import FLEET

CATALOG = """\
apiVersion: tongchou.io/v1
kind: Platform
metadata: {name: identity}
spec:
  displayName: 统一身份认证
  baseResources: {cpu: "8", memory: 32Gi}
  perUnit: {cpu: "1", memory: 2Gi}
  buildCostCny: 1200000
  minLevel: city
  mlpsLevel: 3
  instances:
    - site: site-a
      tenants: ["440000", "440100"]
"""

NODES = [f"a-{i}" for i in range(1, 7)] + [f"b-{i}" for i in range(1, 4)]


@pytest.fixture
def fleet_file(tmp_path: Path) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET, encoding="utf-8")
    return path


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG, encoding="utf-8")
    return path


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Launcher]:
    launcher = Launcher(tmp_path)
    try:
        yield launcher
    finally:
        launcher.close()
