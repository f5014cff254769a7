"""Turns a fleet's nodes into simulated agents: their identity, capacity and report bytes."""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass

from console.model.fleet import Fleet, Node
from console.simulate.usage import UsageModel
from tongchou import __version__, levels
from tongchou.divisions import level_of
from tongchou.v1 import agent_pb2, common_pb2

_CPU_MODELS = {
    "kunpeng": "Kunpeng-920 (HiSilicon)",
    "phytium": "Phytium S2500/64",
    "hygon": "Hygon C86 7380 32-core Processor",
    "intel": "Intel(R) Xeon(R) Gold 6330 CPU @ 2.00GHz",
    "loongson": "Loongson-3C5000",
    "zhaoxin": "ZHAOXIN KaiXian KH-40000@2.2GHz",
}
_OS = {
    "kunpeng": ("openEuler", "openEuler", "22.03", "openEuler 22.03 (LTS-SP3)", "openeuler"),
    "phytium": (
        "kylin",
        "Kylin Linux Advanced Server",
        "V10",
        "Kylin Linux Advanced Server V10 (Lance)",
        "kylin",
    ),
    "loongson": (
        "kylin",
        "Kylin Linux Advanced Server",
        "V10",
        "Kylin Linux Advanced Server V10 (Lance)",
        "kylin",
    ),
    "hygon": ("uos", "UOS Server", "20", "UOS Server 20", "uos"),
    "zhaoxin": ("uos", "UOS Server", "20", "UOS Server 20", "uos"),
    "intel": ("debian", "Debian GNU/Linux", "12", "Debian GNU/Linux 12 (bookworm)", "debian"),
}
_OS_BY_LABEL = {
    "kylin-v10": _OS["phytium"],
    "uos-v20": _OS["hygon"],
    "openeuler-22.03": _OS["kunpeng"],
    "debian-12": _OS["intel"],
}
OS_LABEL = "tongchou.io/os"
_DEFAULT_DISK = 960 * 2**30


@dataclass(slots=True)
class SimNode:
    """One simulated agent. The fixed part of its report is serialized once."""

    name: str
    static: bytes
    memory_bytes: int
    swap_bytes: int
    disk_bytes: int
    model: UsageModel
    rng: random.Random
    sequence: int = 0
    bytes_sent: int = 0
    bytes_recv: int = 0

    def report(self, now: float | None = None) -> bytes:
        """The next report: the cached fixed part plus fresh sequence, time and usage."""
        now = time.time() if now is None else now
        self.sequence += 1
        cpu = self.model.cpu(now, self.rng)
        memory = int(self.memory_bytes * self.model.memory(now, self.rng))
        self.bytes_recv += int(cpu * 40_000_000 * self.rng.uniform(0.5, 1.5))
        self.bytes_sent += int(cpu * 25_000_000 * self.rng.uniform(0.5, 1.5))
        cores = max(1.0, cpu * 64)
        dynamic = agent_pb2.NodeReport(
            sequence=self.sequence,
            usage=common_pb2.Usage(
                cpu_ratio=cpu,
                load1=cores,
                load5=cores * 0.95,
                load15=cores * 0.9,
                memory_used_bytes=memory,
                memory_available_bytes=self.memory_bytes - memory,
                swap_used_bytes=min(self.swap_bytes, self.swap_bytes // 50),
                disks=[common_pb2.DiskUsage(mount="/", used_bytes=int(self.disk_bytes * 0.4))],
                nets=[
                    common_pb2.NetCounters(
                        name="eth0", bytes_sent=self.bytes_sent, bytes_recv=self.bytes_recv
                    )
                ],
            ),
        )
        dynamic.collected_at.FromNanoseconds(int(now * 1e9))
        return self.static + dynamic.SerializeToString()


def _family(chip: str) -> str:
    return chip.split("-", 1)[0]


def identity_of(fleet: Fleet, node: Node) -> common_pb2.NodeIdentity:
    cluster = fleet.clusters[node.cluster]
    site = fleet.sites[cluster.site]
    family = _family(node.chip)
    os_id, os_name, version, pretty, os_family = _OS_BY_LABEL.get(
        node.labels.get(OS_LABEL, ""), _OS.get(family, _OS["intel"])
    )
    ident = common_pb2.NodeIdentity(
        node=node.name,
        division=site.division,
        level=levels.to_wire(level_of(site.division)),
        site=site.name,
        cluster=cluster.name,
        provider=site.provider,
        mlps_level=cluster.mlps_level,
        arch=node.arch,
        chip=node.chip,
        cpu_model=_CPU_MODELS.get(family, node.chip),
        os=common_pb2.OsRelease(
            id=os_id, name=os_name, version_id=version, pretty_name=pretty, family=os_family
        ),
        agent_version=__version__,
    )
    ident.labels.update(node.labels)
    ident.labels["simulated"] = "true"
    return ident


def sim_node(fleet: Fleet, node: Node, *, seed: int = 0, boot_time: float = 0.0) -> SimNode:
    """A simulated agent for one node of the fleet."""
    cores = max(1, node.capacity.cpu_milli // 1000)
    disk = node.capacity.disk_bytes or _DEFAULT_DISK
    swap = min(node.capacity.memory_bytes // 16, 16 * 2**30)
    capacity = common_pb2.Capacity(
        cpu_logical=cores,
        cpu_physical=max(1, cores // 2) if node.arch == "x86_64" else cores,
        memory_bytes=node.capacity.memory_bytes,
        swap_bytes=swap,
        disks=[common_pb2.Disk(mount="/", device="/dev/sda2", fstype="xfs", total_bytes=disk)],
        nics=[common_pb2.NetInterface(name="eth0", speed_bps=25_000_000_000, mtu=1500)],
    )
    gpu_model = "Ascend 910B" if node.arch == "aarch64" else "NVIDIA A800 80GB PCIe"
    for _ in range(node.capacity.gpu):
        capacity.gpus.append(common_pb2.Gpu(model=gpu_model, memory_bytes=64 * 2**30))
    static = agent_pb2.NodeReport(
        identity=identity_of(fleet, node), run_id=uuid.uuid4().hex, capacity=capacity
    )
    static.boot_time.FromNanoseconds(int((boot_time or time.time() - 86_400 * 30) * 1e9))
    model = UsageModel.for_node(node.name, seed)
    return SimNode(
        name=node.name,
        static=static.SerializeToString(),
        memory_bytes=node.capacity.memory_bytes,
        swap_bytes=swap,
        disk_bytes=disk,
        model=model,
        rng=random.Random(model.seed),
    )
