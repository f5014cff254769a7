"""agent.procfs: the host's counters from /proc and /sys, checked against psutil on this
machine and on canned kernel files (escaped mount points, old kernels, links without speed)."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest

from agent.procfs import Procfs


def test_counts_memory_and_boot_match_psutil_here() -> None:
    fs = Procfs()
    assert fs.cpu_count() == psutil.cpu_count()
    assert 1 <= fs.cpu_cores() <= fs.cpu_count()
    memory, vm = fs.memory(), psutil.virtual_memory()
    assert memory.total == vm.total
    assert abs(memory.available - vm.available) < 64 << 20  # read a moment apart
    assert memory.swap_total == psutil.swap_memory().total
    assert abs(fs.boot_time() - psutil.boot_time()) <= 1
    assert fs.load_average() == pytest.approx(os.getloadavg(), abs=0.5)


def test_mounts_disks_and_nics_match_psutil_here() -> None:
    fs = Procfs()
    mine = {(p.device, p.mountpoint, p.fstype) for p in fs.partitions()}
    theirs = {(p.device, p.mountpoint, p.fstype) for p in psutil.disk_partitions(all=True)}
    assert mine == theirs
    total, used = fs.disk_usage("/")
    usage = psutil.disk_usage("/")
    assert total == usage.total
    assert abs(used - usage.used) < 256 << 20
    counters = fs.nic_counters()
    assert set(counters) == set(psutil.net_io_counters(pernic=True))
    stats = psutil.net_if_stats()
    for name in counters:
        speed, mtu = fs.nic_link(name)
        assert (speed, mtu) == (max(stats[name].speed, 0), stats[name].mtu), name


def test_busy_share_comes_from_the_cpu_line() -> None:
    before = Procfs().cpu_times()
    sum(range(300_000))
    after = Procfs().cpu_times()
    assert after.total > before.total or after.total == before.total
    assert 0 <= after.busy - before.busy <= after.total - before.total + 1


def canned(root: Path, files: dict[str, str]) -> Procfs:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return Procfs(proc=str(root / "proc"), sys=str(root / "sys"))


def test_canned_kernel_files(tmp_path: Path) -> None:
    fs = canned(
        tmp_path,
        {
            "proc/stat": "cpu  100 5 50 800 40 3 2 0 7 0\ncpu0 1 2 3 4\nbtime 1764460800\n",
            "proc/meminfo": "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\n"
            "Cached: 250 kB\nSwapTotal: 400 kB\nSwapFree: 300 kB\n",
            "proc/self/mounts": "/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /data/my\\040disk xfs rw 0 0\n",
            "proc/net/dev": "Inter-|   Receive\n face |bytes\n"
            "  eth0: 10 2 0 1 0 0 0 0 20 3 0 0 0 0 0 0\n",
            "sys/class/net/eth0/mtu": "1500\n",
            "sys/class/net/eth0/speed": "-1\n",
        },
    )
    times = fs.cpu_times()
    assert (times.busy, times.total) == (160, 1000)  # idle 800 and iowait 40 are not busy
    assert fs.boot_time() == 1764460800.0
    memory = fs.memory()  # no MemAvailable (before 3.14): free + buffers + cached
    assert (memory.total, memory.available) == (1000 * 1024, 400 * 1024)
    assert (memory.swap_total, memory.swap_used) == (400 * 1024, 100 * 1024)
    assert [p.mountpoint for p in fs.partitions()] == ["/", "/data/my disk"]
    eth0 = fs.nic_counters()["eth0"]
    assert (eth0.bytes_recv, eth0.dropin, eth0.bytes_sent, eth0.packets_sent) == (10, 1, 20, 3)
    assert fs.nic_link("eth0") == (0, 1500)  # a link that is down reports speed -1
    assert fs.nic_link("missing0") == (0, 0)
    assert fs.cpu_cores() == 0  # no topology: the collector falls back to logical CPUs
