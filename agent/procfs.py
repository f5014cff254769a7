"""Linux host counters read straight from /proc and /sys: CPU, memory, mounts, disks, NICs.

What the agent needs of them is a dozen numbers, each one line of a kernel file; reading
them here keeps the agent pure Python (no compiled extension to find for loongarch64 or
sw_64) and about 1 MiB smaller than importing psutil. Both roots are constructor arguments,
so a pod reads the host's through `hostRoot` and tests can hand in canned trees.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["CpuTimes", "Memory", "NicCounters", "Partition", "Procfs"]


@dataclass(frozen=True, slots=True)
class CpuTimes:
    """Jiffies since boot, all CPUs: busy and total (guest time is inside user and nice)."""

    busy: int
    total: int


@dataclass(frozen=True, slots=True)
class Memory:
    total: int
    available: int
    swap_total: int
    swap_used: int


@dataclass(frozen=True, slots=True)
class Partition:
    device: str
    mountpoint: str
    fstype: str


@dataclass(frozen=True, slots=True)
class NicCounters:
    bytes_recv: int
    packets_recv: int
    errin: int
    dropin: int
    bytes_sent: int
    packets_sent: int
    errout: int
    dropout: int


def _unescape(field: str) -> str:
    """A mounts field: the kernel writes space, tab, newline and backslash as octal escapes."""
    if "\\" not in field:
        return field
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


class Procfs:
    """Reads one host's /proc (`proc`) and /sys (`sys`)."""

    def __init__(self, proc: str = "/proc", sys: str = "/sys") -> None:
        self.proc = proc
        self.sys = sys

    def _read(self, *parts: str) -> str:
        with open(os.path.join(*parts), encoding="utf-8", errors="replace") as file:
            return file.read()

    def cpu_times(self) -> CpuTimes:
        """From the `cpu` line of /proc/stat (user nice system idle iowait irq softirq steal
        guest guest_nice); idle and iowait are not busy."""
        line = self._read(self.proc, "stat").split("\n", 1)[0].split()
        values = [int(v) for v in line[1:]]
        total = sum(values[:8])  # guest and guest_nice are counted in user and nice already
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        return CpuTimes(busy=total - idle, total=total)

    def boot_time(self) -> float:
        for line in self._read(self.proc, "stat").splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
        raise OSError(f"{self.proc}/stat has no btime line")

    def load_average(self) -> tuple[float, float, float]:
        one, five, fifteen = self._read(self.proc, "loadavg").split()[:3]
        return float(one), float(five), float(fifteen)

    def cpu_count(self) -> int:
        """Logical CPUs online: `processor` entries of /proc/cpuinfo (the host's, under a
        hostRoot), else what this process sees."""
        try:
            text = self._read(self.proc, "cpuinfo")
        except OSError:
            return os.cpu_count() or 1
        count = sum(1 for line in text.splitlines() if line.startswith("processor"))
        return count or os.cpu_count() or 1

    def cpu_cores(self) -> int:
        """Physical cores: distinct (package, core) pairs in /sys topology; 0 when unknown."""
        base = os.path.join(self.sys, "devices", "system", "cpu")
        cores = set()
        try:
            names = os.listdir(base)
        except OSError:
            return 0
        for name in names:
            if not (name.startswith("cpu") and name[3:].isdigit()):
                continue
            try:
                package = self._read(base, name, "topology", "physical_package_id").strip()
                core = self._read(base, name, "topology", "core_id").strip()
            except OSError:
                continue
            cores.add((package, core))
        return len(cores)

    def memory(self) -> Memory:
        """From /proc/meminfo (kB); `available` is MemAvailable (kernels since 3.14)."""
        fields: dict[str, int] = {}
        for line in self._read(self.proc, "meminfo").splitlines():
            key, _, rest = line.partition(":")
            value = rest.split()
            if value:
                fields[key] = int(value[0]) * 1024
        total = fields.get("MemTotal", 0)
        available = fields.get("MemAvailable")
        if available is None:
            available = sum(fields.get(k, 0) for k in ("MemFree", "Buffers", "Cached"))
        swap_total = fields.get("SwapTotal", 0)
        return Memory(
            total=total,
            available=min(available, total),
            swap_total=swap_total,
            swap_used=max(swap_total - fields.get("SwapFree", 0), 0),
        )

    def partitions(self) -> list[Partition]:
        """Every mount (device, mount point, file system type) of /proc/self/mounts."""
        out = []
        for line in self._read(self.proc, "self", "mounts").splitlines():
            fields = line.split()
            if len(fields) >= 3:
                out.append(Partition(_unescape(fields[0]), _unescape(fields[1]), fields[2]))
        return out

    @staticmethod
    def disk_usage(path: str) -> tuple[int, int]:
        """(total, used) bytes of the file system at `path`; used counts root's reserve."""
        st = os.statvfs(path)
        total = st.f_blocks * st.f_frsize
        return total, total - st.f_bfree * st.f_frsize

    def nic_counters(self) -> dict[str, NicCounters]:
        """Per interface, from /proc/net/dev."""
        out = {}
        for line in self._read(self.proc, "net", "dev").splitlines()[2:]:
            name, sep, rest = line.partition(":")
            values = rest.split()
            if not sep or len(values) < 12:
                continue
            v = [int(x) for x in values[:12]]
            out[name.strip()] = NicCounters(v[0], v[1], v[2], v[3], v[8], v[9], v[10], v[11])
        return out

    def nic_link(self, name: str) -> tuple[int, int]:
        """(speed in Mbit/s, MTU) from /sys/class/net; 0 where the driver reports none."""

        def number(leaf: str) -> int:
            try:
                return max(int(self._read(self.sys, "class", "net", name, leaf).strip()), 0)
            except (OSError, ValueError):  # EINVAL for a link that is down or virtual
                return 0

        return number("speed"), number("mtu")
