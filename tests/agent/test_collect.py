"""Tests for agent.collect: mount selection, the collector on this machine and on canned files."""

from __future__ import annotations

import platform
import shutil
import time
from pathlib import Path
from typing import NamedTuple

import psutil
import pytest

from agent.collect import Collector, Mount, select_mounts
from agent.procfs import Partition, Procfs

FIXTURES = Path(__file__).parent / "fixtures"
GIB = 1 << 30


class Part(NamedTuple):
    device: str
    mountpoint: str
    fstype: str
    opts: str = "rw"


def _all_dirs(_: str) -> bool:
    return True


# -- mount selection ---------------------------------------------------------------------------


def test_select_mounts_keeps_real_storage_once_per_device() -> None:
    parts = [
        Part("/dev/sda2", "/home", "btrfs"),
        Part("/dev/sda2", "/", "btrfs"),  # same btrfs, shorter mount wins
        Part("/dev/sda1", "/boot/efi", "vfat"),
        Part("/dev/nvme0n1p1", "/data", "xfs"),
        Part("/dev/nvme0n1p1", "/var/lib/kubelet/pods/x/volumes/data", "xfs"),  # bind mount
        Part("tank/data", "/tank", "zfs"),
        Part("tmpfs", "/run", "tmpfs"),
        Part("devtmpfs", "/dev", "devtmpfs"),
        Part("/dev/loop3", "/snap/core22/1380", "squashfs"),
        Part("/dev/loop4", "/mnt/image", "ext4"),
        Part("nsfs", "/run/netns/cni-1", "nsfs"),
        Part("overlay", "/var/lib/docker/overlay2/abc/merged", "overlay"),
        Part("10.0.0.5:/export", "/nfs", "nfs4"),
    ]
    assert select_mounts(parts, is_dir=_all_dirs) == [
        Mount("/", "/dev/sda2", "btrfs"),
        Mount("/boot/efi", "/dev/sda1", "vfat"),
        Mount("/data", "/dev/nvme0n1p1", "xfs"),
        Mount("/tank", "tank/data", "zfs"),
    ]


def test_select_mounts_in_a_container() -> None:
    parts = [
        Part("overlay", "/", "overlay"),
        Part("/dev/vda1", "/etc/hosts", "ext4"),  # a file bind-mounted by the runtime
        Part("/dev/vda1", "/etc/resolv.conf", "ext4"),
        Part("/dev/vdb", "/var/lib/data", "xfs"),
        Part("shm", "/dev/shm", "tmpfs"),
    ]
    files = {"/etc/hosts", "/etc/resolv.conf"}
    assert select_mounts(parts, is_dir=lambda m: m not in files) == [
        Mount("/", "overlay", "overlay"),
        Mount("/var/lib/data", "/dev/vdb", "xfs"),
    ]


def test_select_mounts_empty() -> None:
    assert select_mounts([]) == []


# -- this machine ------------------------------------------------------------------------------


@pytest.fixture
def collector() -> Collector:
    return Collector()


def test_capacity_on_this_machine(collector: Collector) -> None:
    cap = collector.capacity()
    assert cap.cpu_logical >= 1
    assert 1 <= cap.cpu_physical <= cap.cpu_logical
    assert cap.memory_bytes > 0
    assert any(d.mount == "/" for d in cap.disks), list(cap.disks)
    root = next(d for d in cap.disks if d.mount == "/")
    assert root.total_bytes > 0
    assert root.fstype == "overlay" or root.device
    assert len({d.device for d in cap.disks}) == len(cap.disks)
    assert all(n.name != "lo" for n in cap.nics)
    assert {n.name for n in cap.nics} == set(psutil.net_if_stats()) - {"lo"}
    assert all(n.speed_bps % 1_000_000 == 0 for n in cap.nics)
    assert len(cap.gpus) == len(list(Path("/proc/driver/nvidia/gpus").glob("*/information")))


def test_usage_on_this_machine(collector: Collector) -> None:
    sum(range(200_000))  # a little work between priming and reading
    use = collector.usage()
    cap = collector.capacity()
    assert 0.0 <= use.cpu_ratio <= 1.0
    assert use.load1 >= 0 and use.load5 >= 0 and use.load15 >= 0
    assert 0 < use.memory_used_bytes <= cap.memory_bytes
    assert use.memory_used_bytes + use.memory_available_bytes == cap.memory_bytes
    assert use.swap_used_bytes <= max(cap.swap_bytes, use.swap_used_bytes)
    assert [d.mount for d in use.disks] == [d.mount for d in cap.disks]
    for used, disk in zip(use.disks, cap.disks, strict=True):
        assert 0 <= used.used_bytes <= disk.total_bytes
    names = {n.name for n in use.nets}
    assert "lo" not in names
    assert names == set(psutil.net_io_counters(pernic=True)) - {"lo"}


def test_host_on_this_machine(collector: Collector) -> None:
    host = collector.host()
    assert host is collector.host()  # cached
    assert host.arch == platform.machine()
    assert host.hostname
    assert host.chip and host.chip == host.chip.lower() and " " not in host.chip
    assert host.os.kernel == platform.release()
    assert host.os.family in {"kylin", "uos", "openeuler", "anolis", "debian", "other"}


def test_boot_time(collector: Collector) -> None:
    assert 0 < collector.boot_time() < time.time()


def test_mounts_are_cached_and_refreshed() -> None:
    calls: list[int] = []

    class Counting(Procfs):
        def partitions(self) -> list[Partition]:
            calls.append(1)
            return super().partitions()

    collector = Collector(mount_refresh_every=3, procfs=Counting())
    for _ in range(6):
        collector.usage()
    assert len(calls) == 2  # scanned on the first usage call, then again on the fourth
    collector.capacity()
    assert len(calls) == 3  # capacity always rescans


# -- canned sources ----------------------------------------------------------------------------


def _nvidia_dir(root: Path) -> Path:
    gpus = root / "nvidia" / "gpus"
    for bus, name in [("0000:3b:00.0", "a100"), ("0000:af:00.0", "t4")]:
        (gpus / bus).mkdir(parents=True)
        shutil.copy(FIXTURES / "nvidia" / f"{name}-information.txt", gpus / bus / "information")
    (gpus / "0000:d8:00.0").mkdir()  # a GPU directory without an information file
    return gpus


def test_collector_on_fixture_files(tmp_path: Path) -> None:
    c = Collector(
        cpuinfo_path=FIXTURES / "cpuinfo" / "kunpeng-920.txt",
        os_release_path=FIXTURES / "os-release" / "kylin-v10-server",
        os_release_fallback=None,
        nvidia_gpus_dir=_nvidia_dir(tmp_path),
        nvml_library=None,
        arch="aarch64",
    )
    host = c.host()
    assert (host.arch, host.chip) == ("aarch64", "kunpeng-920")
    assert host.cpu_model == "HiSilicon Kunpeng 920"
    assert host.os.family == "kylin"
    assert host.os.pretty_name == "Kylin Linux Advanced Server V10 (Sword)"
    gpus = [(g.model, g.memory_bytes) for g in c.capacity().gpus]
    assert gpus == [("NVIDIA A100-SXM4-80GB", 80 * GIB), ("Tesla T4", 0)]


@pytest.mark.parametrize(
    ("cpuinfo", "arch", "os_release", "expected"),
    [
        ("hygon-7380.txt", "x86_64", "uos-v20-server", ("hygon-7380", "uos")),
        ("phytium-s2500.txt", "aarch64", "openeuler-22.03", ("phytium-s2500", "openeuler")),
        ("loongson-3a5000.txt", "loongarch64", "kylin-v10-desktop", ("loongson-3a5000", "kylin")),
        ("zhaoxin-kh-40000.txt", "x86_64", "ubuntu-22.04", ("zhaoxin-kh-40000", "other")),
    ],
)
def test_collector_reports_fixture_chip_and_os(
    tmp_path: Path, cpuinfo: str, arch: str, os_release: str, expected: tuple[str, str]
) -> None:
    c = Collector(
        cpuinfo_path=FIXTURES / "cpuinfo" / cpuinfo,
        os_release_path=FIXTURES / "os-release" / os_release,
        nvidia_gpus_dir=tmp_path / "absent",
        arch=arch,
    )
    assert (c.host().chip, c.host().os.family) == expected
    assert list(c.capacity().gpus) == []


def test_collector_without_optional_sources(tmp_path: Path) -> None:
    c = Collector(
        cpuinfo_path=tmp_path / "no-cpuinfo",
        os_release_path=tmp_path / "no-os-release",
        os_release_fallback=None,
        nvidia_gpus_dir=tmp_path / "no-nvidia",
        arch="x86_64",
    )
    host = c.host()
    assert (host.chip, host.cpu_model) == ("unknown", "")
    assert (host.os.id, host.os.family) == ("linux", "other")
    assert list(c.capacity().gpus) == []
    assert c.usage().memory_available_bytes > 0


def test_os_release_fallback_is_read_when_primary_is_missing(tmp_path: Path) -> None:
    c = Collector(
        cpuinfo_path=FIXTURES / "cpuinfo" / "kunpeng-920.txt",
        os_release_path=tmp_path / "missing",
        os_release_fallback=FIXTURES / "os-release" / "openeuler-22.03",
        arch="aarch64",
    )
    assert c.host().os.family == "openeuler"
    primary = Collector(
        os_release_path=FIXTURES / "os-release" / "debian-12",
        os_release_fallback=FIXTURES / "os-release" / "openeuler-22.03",
    )
    assert primary.host().os.family == "debian"
