"""Collects a node's facts, capacity and usage (/proc and /sys) for the agent's reports.

The collector runs every few seconds on thousands of nodes, so it reads what never changes
(chip, OS) once, keeps the list of real mounts and refreshes it only now and then, and never
raises because an optional source (os-release, the NVIDIA driver) is missing.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from agent.hostinfo import detect_chip, parse_ascend, parse_nvidia_gpu, parse_os_release
from agent.procfs import CpuTimes, Procfs
from tongchou.v1 import common_pb2

__all__ = ["REAL_FSTYPES", "Collector", "HostFacts", "Mount", "select_mounts"]

# File systems that sit on real storage. Everything else (tmpfs, devtmpfs, proc, nsfs,
# squashfs snaps, fuse, network mounts) is left out; overlay counts only as a container's root.
REAL_FSTYPES = frozenset(
    {
        "ext2",
        "ext3",
        "ext4",
        "xfs",
        "btrfs",
        "zfs",
        "f2fs",
        "vfat",
        "exfat",
        "ntfs",
        "ntfs3",
        "jfs",
        "reiserfs",
    }
)
_LOOPBACK = "lo"
_MBIT = 1_000_000


@dataclass(frozen=True, slots=True)
class HostFacts:
    """What a host is; fixed while the agent runs. Treat ``os`` as read-only (copy it out)."""

    arch: str
    chip: str
    cpu_model: str
    os: common_pb2.OsRelease
    hostname: str


@dataclass(frozen=True, slots=True)
class Mount:
    """A mounted file system with real storage behind it."""

    mount: str
    device: str
    fstype: str


class Partition(Protocol):
    """The fields of a mount entry that :func:`select_mounts` reads."""

    @property
    def device(self) -> str: ...
    @property
    def mountpoint(self) -> str: ...
    @property
    def fstype(self) -> str: ...


def select_mounts(
    partitions: Iterable[Partition], is_dir: Callable[[str], bool] = os.path.isdir
) -> list[Mount]:
    """Keep the mounts worth reporting, one per device, sorted by mount point.

    Kept: file systems in :data:`REAL_FSTYPES`, and ``overlay`` only when mounted at ``/``
    (a container's root). Dropped: everything else, loop devices (snaps, images) except at
    ``/``, and mount points that are not directories (the single-file bind mounts a container
    runtime puts on /etc/hosts). A device mounted several times (bind mounts, btrfs subvolumes)
    is kept once, at its shortest mount point.
    """
    candidates: list[Mount] = []
    for part in partitions:
        mount, device, fstype = part.mountpoint, part.device, part.fstype
        if fstype == "overlay":
            if mount != "/":
                continue
        elif fstype not in REAL_FSTYPES:
            continue
        if device.startswith("/dev/loop") and mount != "/":
            continue
        if not is_dir(mount):
            continue
        candidates.append(Mount(mount=mount, device=device or fstype, fstype=fstype))
    chosen: dict[str, Mount] = {}
    for m in sorted(candidates, key=lambda m: (len(m.mount), m.mount)):
        chosen.setdefault(m.device, m)
    return sorted(chosen.values(), key=lambda m: m.mount)


StrPath = str | os.PathLike[str]


def _read_text(path: StrPath) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return file.read()
    except OSError:
        return None


class Collector:
    """Reads one node's facts, capacity and usage.

    Every source is a constructor argument with the real machine's default, so tests hand in
    canned files. ``os_release_fallback`` is read only when ``os_release_path`` is missing
    (os-release(5): /etc/os-release, then /usr/lib/os-release); pass None to disable it.
    The mount list is refreshed on every :meth:`capacity` call and every ``mount_refresh_every``
    :meth:`usage` calls.
    """

    def __init__(
        self,
        *,
        cpuinfo_path: StrPath = "/proc/cpuinfo",
        os_release_path: StrPath = "/etc/os-release",
        os_release_fallback: StrPath | None = "/usr/lib/os-release",
        nvidia_gpus_dir: StrPath = "/proc/driver/nvidia/gpus",
        nvml_library: str | None = "libnvidia-ml.so.1",
        dev_dir: StrPath = "/dev",
        pci_dir: StrPath = "/sys/bus/pci/devices",
        arch: str | None = None,
        mount_refresh_every: int = 30,
        procfs: Procfs | None = None,
    ) -> None:
        self._cpuinfo_path = cpuinfo_path
        self._os_release_paths = [os_release_path]
        if os_release_fallback is not None:
            self._os_release_paths.append(os_release_fallback)
        self._nvidia_gpus_dir = nvidia_gpus_dir
        self._nvml_library = nvml_library
        self._dev_dir = dev_dir
        self._pci_dir = pci_dir
        self._arch = arch if arch is not None else os.uname().machine
        self._mount_refresh_every = max(1, mount_refresh_every)
        self._host: HostFacts | None = None
        self._mounts: list[Mount] | None = None
        self._usage_since_scan = 0
        self._procfs = procfs or Procfs()
        # CPU busy share is a difference of counters: take the first reading now, so the
        # first report covers the time since construction rather than reading 0.
        self._cpu: CpuTimes = self._procfs.cpu_times()

    # -- facts ---------------------------------------------------------------------------

    def host(self) -> HostFacts:
        """Arch, chip, CPU model, OS and host name; read once, then cached."""
        if self._host is None:
            chip, cpu_model = detect_chip(_read_text(self._cpuinfo_path) or "", self._arch)
            self._host = HostFacts(
                arch=self._arch,
                chip=chip,
                cpu_model=cpu_model,
                os=parse_os_release(self._read_os_release(), kernel=os.uname().release),
                hostname=socket.gethostname(),
            )
        return self._host

    def _read_os_release(self) -> str:
        for path in self._os_release_paths:
            text = _read_text(path)
            if text is not None:
                return text
        return ""

    def boot_time(self) -> float:
        """When the host booted, in seconds since the epoch."""
        return self._procfs.boot_time()

    # -- capacity ------------------------------------------------------------------------

    def mounts(self) -> list[Mount]:
        """The mounts reported in capacity and usage (cached; see the class docstring)."""
        if self._mounts is None:
            try:
                # every mount: select_mounts keeps the real ones (and an overlay root)
                partitions = self._procfs.partitions()
            except OSError:
                partitions = []
            self._mounts = select_mounts(partitions)
            self._usage_since_scan = 0
        return list(self._mounts)

    def capacity(self) -> common_pb2.Capacity:
        """What the node has: CPUs, memory, swap, disks, NICs (not ``lo``) and accelerators
        (NVIDIA GPUs, Huawei Ascend NPUs) in ``gpus``."""
        self._mounts = None  # capacity is asked for rarely: always rescan
        logical = self._procfs.cpu_count()
        physical = min(self._procfs.cpu_cores() or logical, logical)
        memory = self._procfs.memory()
        cap = common_pb2.Capacity(
            cpu_logical=logical,
            cpu_physical=physical,
            memory_bytes=memory.total,
            swap_bytes=memory.swap_total,
        )
        for m in self.mounts():
            try:
                total, _used = self._procfs.disk_usage(m.mount)
            except OSError:  # PermissionError included: a mount we may not stat
                continue
            cap.disks.add(mount=m.mount, device=m.device, fstype=m.fstype, total_bytes=total)
        try:
            nics = sorted(self._procfs.nic_counters())
        except OSError:
            nics = []
        for name in nics:
            if name == _LOOPBACK:
                continue
            speed, mtu = self._procfs.nic_link(name)
            cap.nics.add(name=name, speed_bps=speed * _MBIT, mtu=mtu)
        cap.gpus.extend(self._nvidia())
        cap.gpus.extend(self._ascend())
        return cap

    def _nvidia(self) -> list[common_pb2.Gpu]:
        """Through NVML where the driver is loaded and its library is there, else from the
        driver's /proc files (no memory size there unless the model name carries one)."""
        try:
            buses = sorted(os.listdir(self._nvidia_gpus_dir))
        except OSError:
            return []  # no NVIDIA driver: ctypes and NVML are never loaded
        if self._nvml_library is not None:
            from agent import nvml

            found = nvml.gpus(self._nvml_library)
            if found is not None:
                return found
        gpus = []
        for bus in buses:
            gpu = parse_nvidia_gpu(
                _read_text(os.path.join(self._nvidia_gpus_dir, bus, "information")) or ""
            )
            if gpu is not None:
                gpus.append(gpu)
        return gpus

    def _ascend(self) -> list[common_pb2.Gpu]:
        try:
            names = os.listdir(self._dev_dir)
        except OSError:
            return []
        if not any(name.startswith("davinci") for name in names):
            return []
        ids = []
        try:
            slots = sorted(os.listdir(self._pci_dir))
        except OSError:
            slots = []
        for slot in slots:
            vendor = _read_text(os.path.join(self._pci_dir, slot, "vendor"))
            device = _read_text(os.path.join(self._pci_dir, slot, "device"))
            if vendor and device:
                ids.append((vendor, device))
        return parse_ascend(names, ids)

    # -- usage ---------------------------------------------------------------------------

    def usage(self) -> common_pb2.Usage:
        """What the node uses now. CPU is the busy share since the previous call, 0 to 1.

        ``memory_used_bytes`` is total − available (what applications cannot get back), so
        used + available = total.
        """
        if self._usage_since_scan >= self._mount_refresh_every:
            self._mounts = None
        mounts = self.mounts()
        self._usage_since_scan += 1
        now = self._procfs.cpu_times()
        elapsed = now.total - self._cpu.total
        cpu = (now.busy - self._cpu.busy) / elapsed if elapsed > 0 else 0.0
        self._cpu = now
        try:
            load1, load5, load15 = self._procfs.load_average()
        except (OSError, ValueError):
            load1 = load5 = load15 = 0.0
        vm = self._procfs.memory()
        used = common_pb2.Usage(
            cpu_ratio=min(max(cpu, 0.0), 1.0),
            load1=load1,
            load5=load5,
            load15=load15,
            memory_used_bytes=max(vm.total - vm.available, 0),
            memory_available_bytes=vm.available,
            swap_used_bytes=vm.swap_used,
        )
        for m in mounts:
            try:
                _total, disk_used = self._procfs.disk_usage(m.mount)
            except OSError:
                continue
            used.disks.add(mount=m.mount, used_bytes=disk_used)
        try:
            counters = self._procfs.nic_counters()
        except OSError:
            counters = {}
        for name, c in sorted(counters.items()):
            if name == _LOOPBACK:
                continue
            used.nets.add(
                name=name,
                bytes_sent=c.bytes_sent,
                bytes_recv=c.bytes_recv,
                packets_sent=c.packets_sent,
                packets_recv=c.packets_recv,
                errors_in=c.errin,
                errors_out=c.errout,
                drops_in=c.dropin,
                drops_out=c.dropout,
            )
        return used
