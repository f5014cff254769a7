"""hostRoot: an agent in a pod reads the host's /proc and os-release where they are mounted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from agent.cli import host_collector
from agent.config import ConfigError, build


@pytest.fixture
def host_root(tmp_path: Path) -> Iterator[Path]:
    """A host root as the chart mounts it: proc (here this machine's) and etc/os-release."""
    (tmp_path / "proc").symlink_to("/proc")
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "os-release").write_text(
        'ID=openEuler\nNAME="openEuler"\nVERSION_ID="22.03"\n', encoding="utf-8"
    )
    yield tmp_path


def test_host_root_from_the_environment(host_root: Path) -> None:
    config = build(environ={"TONGCHOU_HOST_ROOT": str(host_root)})
    assert config.host_root == str(host_root)
    assert config.where["host_root"] == "environment TONGCHOU_HOST_ROOT"


def test_a_host_root_without_proc_is_refused_with_its_source(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"environment TONGCHOU_HOST_ROOT: .*/proc is not a proc"):
        build(environ={"TONGCHOU_HOST_ROOT": str(tmp_path)})
    with pytest.raises(ConfigError, match="must be absolute"):
        build(environ={"TONGCHOU_HOST_ROOT": "host"})


def test_the_collector_reads_the_hosts_os_release_and_proc(host_root: Path) -> None:
    collector = host_collector(str(host_root))
    assert collector.host().os.id == "openEuler"
    assert collector.capacity().cpu_logical == psutil.cpu_count()
