"""Pure parsers for what a host is: its OS (os-release), chip (/proc/cpuinfo) and NVIDIA GPUs.

Nothing here touches the machine; the collector reads the files and hands the text in, so every
parser can be tested on canned text from each 信创 platform.
"""

from __future__ import annotations

import re

from tongchou import xinchuang
from tongchou.v1 import common_pb2

__all__ = [
    "DOMESTIC_FAMILIES",
    "chip_family",
    "detect_chip",
    "os_family",
    "parse_ascend",
    "parse_cpuinfo",
    "parse_nvidia_gpu",
    "parse_os_release",
    "read_os_release",
]

# --------------------------------------------------------------------------------------------
# os-release
# --------------------------------------------------------------------------------------------

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# Inside double quotes a backslash escapes only these (os-release(5) follows shell rules).
_DQ_ESCAPE = re.compile(r"\\([\\$\"`])")


def _unquote(raw: str) -> str:
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        inner = value[1:-1]
        return _DQ_ESCAPE.sub(r"\1", inner) if value[0] == '"' else inner
    if value[:1] in "\"'":
        # An unterminated quote: keep what follows it rather than dropping the line.
        return value[1:]
    # Unquoted: a backslash escapes the next character.
    return re.sub(r"\\(.)", r"\1", value)


def read_os_release(text: str) -> dict[str, str]:
    """Parse os-release(5) text into a dict: KEY=VALUE lines, comments and blanks skipped.

    Values may be unquoted, 'single-quoted' or "double-quoted" (with shell backslash escapes).
    Lines that are not assignments are ignored; a later assignment overrides an earlier one.
    """
    fields: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        key = key.strip()
        if not sep or not _KEY.match(key):
            continue
        fields[key] = _unquote(value)
    return fields


def os_family(fields: dict[str, str]) -> str:
    """Classify parsed os-release fields as "kylin", "uos", "openeuler", "anolis", "debian" or
    "other".

    The rules, in order:

    * ``ID`` decides first: ``kylin`` (银河麒麟, also ``neokylin``, 中标麒麟, now sold by the
      same company) → kylin; ``uos`` → uos; ``openEuler`` → openeuler; ``debian`` → debian.
      ID wins over ID_LIKE, so Kylin V10 desktop (``ID=kylin``, ``ID_LIKE=debian``) is kylin;
      ``anolis`` (龙蜥 Anolis OS, ``ID_LIKE="rhel fedora centos"``) → anolis.
    * Branded names without the expected ID: a ``NAME``/``PRETTY_NAME`` containing
      "UnionTech" or starting with "UOS" → uos (some UOS server builds); one starting with
      "Kylin" → kylin.
    * ``ID_LIKE`` is consulted only for the domestic families (a distro that declares
      itself "like openEuler" is an openEuler derivative for 信创 purposes). It is never used
      for debian: Ubuntu, Deepin, openKylin, Ubuntu Kylin and UOS desktop all say
      ``ID_LIKE=debian`` but have their own release numbers and lifecycles, so a "debian"
      family with ``VERSION_ID=22.04`` would mislead placement rules. **Ubuntu is "other".**
    * Anything else, including an empty or unreadable file, is "other".
    """
    os_id = fields.get("ID", "").strip().lower()
    by_id = {
        "kylin": "kylin",
        "neokylin": "kylin",
        "uos": "uos",
        "openeuler": "openeuler",
        "anolis": "anolis",
        "debian": "debian",
    }
    if os_id in by_id:
        return by_id[os_id]
    names = [fields.get("NAME", ""), fields.get("PRETTY_NAME", "")]
    for name in names:
        lowered = name.strip().lower()
        if "uniontech" in lowered or lowered.startswith("uos"):
            return "uos"
        if lowered.startswith("kylin"):
            return "kylin"
    for like in fields.get("ID_LIKE", "").lower().split():
        if like in ("kylin", "uos", "openeuler", "anolis"):
            return like
    return "other"


def parse_os_release(text: str, kernel: str = "") -> common_pb2.OsRelease:
    """Build an ``OsRelease`` from os-release(5) text and the kernel release (``uname -r``).

    ``family`` follows :func:`os_family` (Ubuntu → "other", see there). Missing keys take
    os-release(5)'s defaults (ID "linux", NAME and PRETTY_NAME "Linux"), so an empty or broken
    file still yields a usable record with family "other".
    """
    fields = read_os_release(text)
    return common_pb2.OsRelease(
        id=fields.get("ID") or "linux",
        name=fields.get("NAME") or "Linux",
        version_id=fields.get("VERSION_ID", ""),
        pretty_name=fields.get("PRETTY_NAME") or fields.get("NAME") or "Linux",
        family=os_family(fields),
        kernel=kernel,
    )


# --------------------------------------------------------------------------------------------
# cpuinfo
# --------------------------------------------------------------------------------------------


def parse_cpuinfo(text: str) -> dict[str, str]:
    """The first value of every ``key : value`` line in /proc/cpuinfo, keys lower-cased.

    The first processor block is enough to name the chip (servers are homogeneous), and keys
    printed once for the whole machine (``system type`` on LoongArch) are kept as well.
    """
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        name = " ".join(key.split()).lower()
        if name and name not in fields:
            fields[name] = value.strip()
    return fields


def _slug(text: str) -> str:
    text = text.lower().replace("+", "plus")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def _int(value: str) -> int | None:
    try:
        return int(value, 0)
    except ValueError:
        return None


# (implementer, part) → (chip id, model name). Arm servers print no model name of their own.
_ARM_CHIPS: dict[tuple[int, int], tuple[str, str]] = {
    (0x48, 0xD01): ("kunpeng-920", "HiSilicon Kunpeng 920"),
    # Phytium: FTC661/FTC662/FTC663 cores. FT-2000/4 and D2000 may also report 0x663; when
    # the kernel prints a model name it is checked first (see _PHYTIUM_NAMES).
    (0x70, 0x661): ("phytium-ft2000-4", "Phytium FT-2000/4"),
    (0x70, 0x662): ("phytium-ft2000plus", "Phytium FT-2000+/64"),
    (0x70, 0x663): ("phytium-s2500", "Phytium S2500"),
}
_ARM_VENDORS: dict[int, str] = {
    0x41: "arm",
    0x42: "broadcom",
    0x43: "cavium",
    0x46: "fujitsu",
    0x48: "hisilicon",
    0x4E: "nvidia",
    0x50: "apm",
    0x51: "qualcomm",
    0x61: "apple",
    0x6D: "microsoft",
    0x70: "phytium",
    0xC0: "ampere",
}
_ARM_PARTS: dict[int, str] = {
    0xD03: "Cortex-A53",
    0xD05: "Cortex-A55",
    0xD07: "Cortex-A57",
    0xD08: "Cortex-A72",
    0xD0B: "Cortex-A76",
    0xD0C: "Neoverse-N1",
    0xD40: "Neoverse-V1",
    0xD49: "Neoverse-N2",
    0xD4F: "Neoverse-V2",
}
_PHYTIUM_NAMES: tuple[tuple[str, str], ...] = (
    (r"FT-?2000\+", "phytium-ft2000plus"),
    (r"FT-?2000/4", "phytium-ft2000-4"),
    (r"D2000", "phytium-d2000"),
    (r"S2500", "phytium-s2500"),
    (r"S5000C", "phytium-s5000c"),
)


def _detect_arm(info: dict[str, str]) -> tuple[str, str]:
    impl = _int(info.get("cpu implementer", ""))
    part = _int(info.get("cpu part", ""))
    kernel_model = info.get("model name", "")
    if re.match(r"ARMv\d", kernel_model):  # "ARMv8 Processor rev 1 (v8l)" says nothing
        kernel_model = ""
    if impl is None or part is None:
        return "unknown", kernel_model
    if impl == 0x70 and kernel_model:
        for pattern, chip in _PHYTIUM_NAMES:
            if re.search(pattern, kernel_model, re.IGNORECASE):
                return chip, kernel_model
    known = _ARM_CHIPS.get((impl, part))
    if known is not None:
        return known[0], kernel_model or known[1]
    vendor = _ARM_VENDORS.get(impl)
    if vendor is None:
        return "unknown", kernel_model
    part_name = _ARM_PARTS.get(part) if impl == 0x41 else None
    if part_name is not None:
        return f"arm-{_slug(part_name)}", kernel_model or f"ARM {part_name}"
    return f"{vendor}-{part:03x}", kernel_model or f"{vendor.capitalize()} part 0x{part:03x}"


def _clean(model: str, *patterns: str) -> str:
    for pattern in patterns:
        model = re.sub(pattern, " ", model, flags=re.IGNORECASE)
    return model


def _detect_x86(info: dict[str, str]) -> str:
    vendor = info.get("vendor_id", "").strip()
    model = info.get("model name", "")
    lowered = model.lower()
    if vendor == "HygonGenuine" or "hygon" in lowered:
        number = re.search(r"\b(\d{4}[A-Z]?)\b", _clean(model, r"\bC86\b", r"\d+-core"))
        if number:
            return f"hygon-{number.group(1).lower()}"
        rest = _slug(_clean(model, r"\bHygon\b", r"\d+-core", r"\bProcessor\b", r"@.*$"))
        return f"hygon-{rest}" if rest else "hygon"
    if vendor == "Shanghai" or "zhaoxin" in lowered:
        series = re.search(r"\b(K[A-Z]-[A-Z0-9]+)", model.upper())
        if series:
            return f"zhaoxin-{series.group(1).lower()}"
        rest = _slug(_clean(model, r"\bZHAOXIN\b", r"@.*$"))
        return f"zhaoxin-{rest}" if rest else "zhaoxin"
    if vendor == "GenuineIntel" or "intel" in lowered:
        rest = _slug(
            _clean(
                model,
                r"\((R|TM)\)",
                r"@.*$",
                r"\bCPU\b",
                r"\bProcessor\b",
                r"\b\d+(st|nd|rd|th) Gen\b",
                r"\bIntel\b",
                r"\b(Platinum|Gold|Silver|Bronze)\b",
            )
        )
        return f"intel-{rest}" if rest else "intel"
    if vendor == "AuthenticAMD" or lowered.startswith("amd"):
        rest = _slug(
            _clean(
                model,
                r"@.*$",
                r"\bwith Radeon.*$",
                r"\b\d+-Core\b",
                r"\bProcessor\b",
                r"\bAMD\b",
            )
        )
        return f"amd-{rest}" if rest else "amd"
    if vendor == "CentaurHauls":
        rest = _slug(model)
        return f"centaur-{rest}" if rest else "centaur"
    return "unknown"


def _detect_loongson(info: dict[str, str]) -> str:
    model = info.get("model name", "") or info.get("cpu model", "")
    found = re.search(r"Loongson-?(\d[A-Z]\d{4}[A-Z]*)", model, re.IGNORECASE)
    if found:
        return f"loongson-{found.group(1).lower()}"
    rest = _slug(_clean(model, r"\bLoongson\b", r"@.*$"))
    return f"loongson-{rest}" if rest else "loongson"


# Sunway cpuid model numbers (arch/sw_64/include/asm/cpu.h).
_SUNWAY_MODELS: dict[int, str] = {0x31: "sw3231", 0x32: "sw831", 0x41: "sw8a"}


def _detect_sunway(info: dict[str, str]) -> str:
    found = re.search(r"\b(SW\d\w*)", info.get("model name", ""), re.IGNORECASE)
    if found:
        return f"sunway-{found.group(1).lower()}"
    number = _int(info.get("model", ""))
    if number is not None and number in _SUNWAY_MODELS:
        return f"sunway-{_SUNWAY_MODELS[number]}"
    return "sunway"


_ARCH_KIND: dict[str, str] = {
    "aarch64": "arm",
    "arm64": "arm",
    "armv8l": "arm",
    "x86_64": "x86",
    "amd64": "x86",
    "i386": "x86",
    "i686": "x86",
    "loongarch64": "loongson",
    "sw_64": "sunway",
    "sw64": "sunway",
}


def _guess_kind(info: dict[str, str], arch: str) -> str:
    kind = _ARCH_KIND.get(arch.strip().lower(), "")
    if kind:
        return kind
    model = info.get("model name", "") or info.get("cpu model", "")
    if "cpu implementer" in info:
        return "arm"
    if "loongson" in model.lower():
        return "loongson"  # mips64 Loongson 3A4000 and older
    if info.get("vendor_id", "").lower() == "sunway":
        return "sunway"
    if "vendor_id" in info:
        return "x86"
    return ""


def detect_chip(cpuinfo: str, arch: str) -> tuple[str, str]:
    """Name the chip of a host from its /proc/cpuinfo text and ``uname -m``.

    Returns ``(chip id, cpu model)``: the id is lower-case with hyphens (``kunpeng-920``,
    ``phytium-s2500``, ``hygon-7380``, ``zhaoxin-kh-40000``, ``loongson-3a5000``,
    ``sunway-sw3231``, ``intel-xeon-6330``, ``amd-epyc-7763``, ``arm-neoverse-n1``) or
    ``unknown``; the model is the kernel's ``model name`` where it prints one, otherwise (Arm
    servers) a readable name derived from the implementer and part. ``arch`` picks the parser;
    an unfamiliar arch falls back to guessing from the text.
    """
    info = parse_cpuinfo(cpuinfo)
    kind = _guess_kind(info, arch)
    model = info.get("model name", "") or info.get("cpu model", "")
    if kind == "arm":
        return _detect_arm(info)
    if kind == "x86":
        return _detect_x86(info), model
    if kind == "loongson":
        return _detect_loongson(info), model
    if kind == "sunway":
        return _detect_sunway(info), model
    return "unknown", model


# The 信创 chip families (DOMAIN.md), by the prefix of the chip id detect_chip returns.
DOMESTIC_FAMILIES = frozenset(xinchuang.FAMILIES)


def chip_family(chip: str) -> str:
    """The family of a chip id: kunpeng, phytium, hygon, zhaoxin, loongson, sunway (信创), or
    intel, amd, arm, …; "unknown" for an unknown chip."""
    family = chip.split("-", 1)[0]
    return family or "unknown"


# --------------------------------------------------------------------------------------------
# Huawei Ascend NPUs
# --------------------------------------------------------------------------------------------

HUAWEI_PCI_VENDOR = 0x19E5
# PCI device ids of Ascend chips (lspci shows "Huawei Technologies Co., Ltd. Device d802").
ASCEND_PCI_DEVICES: dict[int, str] = {
    0xD100: "Huawei Ascend 310",
    0xD500: "Huawei Ascend 310P",
    0xD801: "Huawei Ascend 910",
    0xD802: "Huawei Ascend 910B",
}
_DAVINCI = re.compile(r"davinci(\d+)\Z")


def parse_ascend(dev_names: list[str], pci_ids: list[tuple[str, str]]) -> list[common_pb2.Gpu]:
    """Ascend NPUs from the names in /dev and the (vendor, device) ids of the PCI devices.

    The driver makes one ``/dev/davinci<N>`` per NPU (beside davinci_manager, devmm_svm and
    hisi_hdc); the model comes from the Huawei PCI ids when they name one Ascend chip for
    each device file, else it is "Huawei Ascend NPU". Memory is not in either source: 0.
    """
    count = sum(1 for name in dev_names if _DAVINCI.match(name))
    if count == 0:
        return []
    models = []
    for vendor, device in pci_ids:
        if _int(vendor.strip()) == HUAWEI_PCI_VENDOR:
            model = ASCEND_PCI_DEVICES.get(_int(device.strip()) or -1)
            if model is not None:
                models.append(model)
    if len(models) != count:
        models = ["Huawei Ascend NPU"] * count
    return [common_pb2.Gpu(model=model, memory_bytes=0) for model in sorted(models)]


# --------------------------------------------------------------------------------------------
# NVIDIA GPUs
# --------------------------------------------------------------------------------------------

_GIB = 1 << 30


def parse_nvidia_gpu(information: str) -> common_pb2.Gpu | None:
    """Read one ``/proc/driver/nvidia/gpus/<bus id>/information`` file; None without a model.

    The driver's file has no memory size, so ``memory_bytes`` is taken from a size the model
    name carries (``NVIDIA A100-SXM4-80GB`` → 80 GiB) and is 0 when it carries none.
    """
    model = ""
    for line in information.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == "model":
            model = value.strip()
            break
    if not model:
        return None
    size = re.search(r"(\d+)\s*GB\b", model, re.IGNORECASE)
    memory = int(size.group(1)) * _GIB if size else 0
    return common_pb2.Gpu(model=model, memory_bytes=memory)
