"""Accelerators as capacity: Huawei Ascend NPUs from /dev and PCI ids, NVIDIA GPUs through NVML
(a real shared library loaded with ctypes) or, without NVML, from the driver's /proc files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from agent.collect import Collector
from agent.config import AgentConfig
from agent.metrics import AgentMetrics, NodeCollector
from agent.report import ReportBuilder

FIXTURES = Path(__file__).parent / "fixtures"
GIB = 1 << 30


def ascend_host(tmp_path: Path, npus: int, device: str) -> tuple[Path, Path]:
    dev, pci = tmp_path / "dev", tmp_path / "pci"
    dev.mkdir()
    pci.mkdir()
    for name in ("davinci_manager", "devmm_svm", "hisi_hdc", "null", "nvme0n1"):
        (dev / name).touch()
    for index in range(npus):
        (dev / f"davinci{index}").touch()
        slot = pci / f"0000:{0xC1 + index:02x}:00.0"
        slot.mkdir()
        (slot / "vendor").write_text("0x19e5\n")
        (slot / "device").write_text(f"{device}\n")
    nic = pci / "0000:7d:00.0"  # a Huawei NIC on the same bus: not an NPU
    nic.mkdir()
    (nic / "vendor").write_text("0x19e5\n")
    (nic / "device").write_text("0xa222\n")
    return dev, pci


def collector(tmp_path: Path, **kw: object) -> Collector:
    args: dict[str, object] = {
        "cpuinfo_path": FIXTURES / "cpuinfo" / "kunpeng-920.txt",
        "os_release_path": FIXTURES / "os-release" / "openeuler-22.03",
        "nvidia_gpus_dir": tmp_path / "no-nvidia",
        "dev_dir": tmp_path / "no-dev",
        "pci_dir": tmp_path / "no-pci",
        "arch": "aarch64",
    }
    args.update(kw)
    return Collector(**args)  # type: ignore[arg-type]


def test_eight_ascend_910b_npus_are_capacity(tmp_path: Path) -> None:
    dev, pci = ascend_host(tmp_path, 8, "0xd802")
    gpus = collector(tmp_path, dev_dir=dev, pci_dir=pci).capacity().gpus
    assert [g.model for g in gpus] == ["Huawei Ascend 910B"] * 8


def test_ascend_device_files_without_matching_pci_ids_still_count(tmp_path: Path) -> None:
    dev, pci = ascend_host(tmp_path, 2, "0xd801")
    (dev / "davinci2").touch()  # three device files, two known chips
    gpus = collector(tmp_path, dev_dir=dev, pci_dir=pci).capacity().gpus
    assert [g.model for g in gpus] == ["Huawei Ascend NPU"] * 3


def test_no_ascend_without_davinci_files(tmp_path: Path) -> None:
    dev, pci = ascend_host(tmp_path, 0, "0xd802")
    assert list(collector(tmp_path, dev_dir=dev, pci_dir=pci).capacity().gpus) == []


FAKE_NVML = r"""
#include <string.h>
typedef struct { unsigned long long total, free, used; } mem_t;
static const char *names[] = {"NVIDIA A800 80GB PCIe", "NVIDIA L40S"};
static const unsigned long long totals[] = {85899345920ULL, 48305799168ULL};
int nvmlInit_v2(void) { return 0; }
int nvmlShutdown(void) { return 0; }
int nvmlDeviceGetCount_v2(unsigned int *n) { *n = 2; return 0; }
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, void **h) {
    *h = (void *)(long)(i + 1); return 0; }
int nvmlDeviceGetName(void *h, char *name, unsigned int len) {
    strncpy(name, names[(long)h - 1], len); return 0; }
int nvmlDeviceGetMemoryInfo(void *h, mem_t *m) {
    m->total = totals[(long)h - 1]; m->free = m->total; m->used = 0; return 0; }
"""


@pytest.fixture
def fake_nvml(tmp_path: Path) -> Path:
    """A shared library with NVML's C interface, as the driver installs it."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build a stand-in libnvidia-ml (apt-get install gcc)")
    source, library = tmp_path / "nvml.c", tmp_path / "libnvidia-ml.so.1"
    source.write_text(FAKE_NVML)
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    return library


def nvidia_proc(tmp_path: Path) -> Path:
    gpus = tmp_path / "nvidia" / "gpus"
    bus = gpus / "0000:3b:00.0"
    bus.mkdir(parents=True)
    shutil.copy(FIXTURES / "nvidia" / "t4-information.txt", bus / "information")
    return gpus


def test_nvidia_gpus_through_nvml_with_their_memory(tmp_path: Path, fake_nvml: Path) -> None:
    c = collector(tmp_path, nvidia_gpus_dir=nvidia_proc(tmp_path), nvml_library=str(fake_nvml))
    gpus = [(g.model, g.memory_bytes) for g in c.capacity().gpus]
    assert gpus == [("NVIDIA A800 80GB PCIe", 80 * GIB), ("NVIDIA L40S", 48305799168)]


def test_without_nvml_the_driver_files_are_read(tmp_path: Path) -> None:
    c = collector(
        tmp_path, nvidia_gpus_dir=nvidia_proc(tmp_path), nvml_library=str(tmp_path / "absent.so")
    )
    assert [g.model for g in c.capacity().gpus] == ["Tesla T4"]


def test_accelerators_and_the_node_family_on_metrics(tmp_path: Path) -> None:
    dev, pci = ascend_host(tmp_path, 2, "0xd500")
    config = AgentConfig(node="n1", division="440106", level="county", insecure=True)
    builder = ReportBuilder(config, collector(tmp_path, dev_dir=dev, pci_dir=pci))
    report = builder.next()
    metrics = AgentMetrics()
    metrics.register(NodeCollector(lambda: report))
    text = metrics.render().decode()
    assert 'tongchou_node_accelerators{node="n1",' in text
    assert 'model="Huawei Ascend 310P"} 2.0' in text
    assert 'chip_family="kunpeng",os_family="openeuler"} 1.0' in text
