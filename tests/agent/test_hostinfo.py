"""Tests for agent.hostinfo: chip detection, os-release parsing and NVIDIA GPU files."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.hostinfo import (
    DOMESTIC_FAMILIES,
    chip_family,
    detect_chip,
    parse_cpuinfo,
    parse_nvidia_gpu,
    parse_os_release,
    read_os_release,
)

FIXTURES = Path(__file__).parent / "fixtures"
GIB = 1 << 30


def _cpuinfo(name: str) -> str:
    return (FIXTURES / "cpuinfo" / name).read_text(encoding="utf-8")


def _os_release(name: str) -> str:
    return (FIXTURES / "os-release" / name).read_text(encoding="utf-8")


# -- chips -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "arch", "chip", "model"),
    [
        ("kunpeng-920.txt", "aarch64", "kunpeng-920", "HiSilicon Kunpeng 920"),
        ("phytium-ft2000plus.txt", "aarch64", "phytium-ft2000plus", "Phytium FT-2000+/64"),
        ("phytium-s2500.txt", "aarch64", "phytium-s2500", "Phytium S2500"),
        ("phytium-ft2000-4.txt", "aarch64", "phytium-ft2000-4", "Phytium FT-2000/4"),
        ("phytium-unknown-part.txt", "aarch64", "phytium-664", "Phytium part 0x664"),
        ("ampere-altra-neoverse-n1.txt", "aarch64", "arm-neoverse-n1", "ARM Neoverse-N1"),
        ("hygon-7380.txt", "x86_64", "hygon-7380", "Hygon C86 7380 32-core Processor"),
        ("zhaoxin-kh-40000.txt", "x86_64", "zhaoxin-kh-40000", "ZHAOXIN KaiXian KH-40000@2.2GHz"),
        (
            "intel-xeon-gold-6330.txt",
            "x86_64",
            "intel-xeon-6330",
            "Intel(R) Xeon(R) Gold 6330 CPU @ 2.00GHz",
        ),
        (
            "intel-xeon-platinum-8380.txt",
            "x86_64",
            "intel-xeon-8380",
            "Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz",
        ),
        ("amd-epyc-7763.txt", "x86_64", "amd-epyc-7763", "AMD EPYC 7763 64-Core Processor"),
        ("loongson-3a5000.txt", "loongarch64", "loongson-3a5000", "Loongson-3A5000"),
        ("loongson-3c5000l.txt", "loongarch64", "loongson-3c5000l", "Loongson-3C5000L"),
        ("sunway-sw3231.txt", "sw_64", "sunway-sw3231", "SW3231 CPU @ 2.50GHz"),
        ("riscv64-unknown.txt", "riscv64", "unknown", ""),
    ],
)
def test_detect_chip_fixture(fixture: str, arch: str, chip: str, model: str) -> None:
    assert detect_chip(_cpuinfo(fixture), arch) == (chip, model)


@pytest.mark.parametrize(
    "fixture",
    [
        "kunpeng-920.txt",
        "hygon-7380.txt",
        "zhaoxin-kh-40000.txt",
        "loongson-3a5000.txt",
        "sunway-sw3231.txt",
    ],
)
def test_detect_chip_guesses_from_text_when_arch_is_unknown(fixture: str) -> None:
    by_arch = {
        "kunpeng-920.txt": "aarch64",
        "hygon-7380.txt": "x86_64",
        "zhaoxin-kh-40000.txt": "x86_64",
        "loongson-3a5000.txt": "loongarch64",
        "sunway-sw3231.txt": "sw_64",
    }
    text = _cpuinfo(fixture)
    assert detect_chip(text, "") == detect_chip(text, by_arch[fixture])


def _x86(vendor: str, model: str) -> str:
    return f"processor\t: 0\nvendor_id\t: {vendor}\ncpu family\t: 6\nmodel name\t: {model}\n"


@pytest.mark.parametrize(
    ("vendor", "model", "chip"),
    [
        ("GenuineIntel", "Intel(R) Xeon(R) Silver 4314 CPU @ 2.40GHz", "intel-xeon-4314"),
        ("GenuineIntel", "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz", "intel-xeon-e5-2680-v4"),
        ("GenuineIntel", "Intel(R) Xeon(R) Platinum 8480+", "intel-xeon-8480plus"),
        ("GenuineIntel", "12th Gen Intel(R) Core(TM) i7-1260P", "intel-core-i7-1260p"),
        ("GenuineIntel", "Intel Xeon Processor (Icelake)", "intel-xeon-icelake"),
        ("AuthenticAMD", "AMD EPYC", "amd-epyc"),
        ("AuthenticAMD", "AMD EPYC-Milan Processor", "amd-epyc-milan"),
        ("AuthenticAMD", "AMD EPYC 9654 96-Core Processor", "amd-epyc-9654"),
        ("AuthenticAMD", "AMD Ryzen 9 5950X 16-Core Processor", "amd-ryzen-9-5950x"),
        ("HygonGenuine", "Hygon C86 3250  8-core Processor", "hygon-3250"),
        ("HygonGenuine", "Hygon C86 7285 32-core Processor", "hygon-7285"),
        ("  Shanghai  ", "ZHAOXIN KaiXian KX-U6780A@2.7GHz", "zhaoxin-kx-u6780a"),
        ("CentaurHauls", "ZHAOXIN KaiSheng KH-37800D@2.7GHz", "zhaoxin-kh-37800d"),
        ("SomeoneElse", "Mystery CPU", "unknown"),
    ],
)
def test_detect_chip_x86_model_names(vendor: str, model: str, chip: str) -> None:
    assert detect_chip(_x86(vendor, model), "x86_64") == (chip, model)


def test_phytium_kernel_model_name_wins_over_the_shared_part_number() -> None:
    # D2000 uses the same FTC663 core as S2500; a kernel that names the chip settles it.
    text = _cpuinfo("phytium-s2500.txt").replace(
        "CPU part\t: 0x663", "model name\t: Phytium,D2000/8\nCPU part\t: 0x663"
    )
    assert detect_chip(text, "aarch64") == ("phytium-d2000", "Phytium,D2000/8")


def test_arm_with_unknown_part_or_implementer() -> None:
    arm = _cpuinfo("ampere-altra-neoverse-n1.txt")
    assert detect_chip(arm.replace("0xd0c", "0xd99"), "aarch64") == ("arm-d99", "Arm part 0xd99")
    assert detect_chip(arm.replace("0x41", "0x99"), "aarch64") == ("unknown", "")
    assert detect_chip("processor\t: 0\nBogoMIPS\t: 50.00\n", "aarch64") == ("unknown", "")


def test_loongson_mips_and_sunway_model_number() -> None:
    mips = (
        "cpu model\t\t: Loongson-3 V0.4  FPU V0.1\n"
        "model name\t\t: Loongson-3A R4 (Loongson-3A4000) @ 1800MHz\n"
    )
    assert detect_chip(mips, "mips64")[0] == "loongson-3a4000"
    sunway = _cpuinfo("sunway-sw3231.txt").replace("SW3231 CPU", "CPU")
    assert detect_chip(sunway, "sw_64")[0] == "sunway-sw3231"  # model 49 = 0x31
    assert detect_chip("processor\t: 0\n", "sw_64")[0] == "sunway"


@pytest.mark.parametrize("arch", ["x86_64", "aarch64", "loongarch64", "sw_64", "riscv64", ""])
def test_detect_chip_on_empty_text_never_raises(arch: str) -> None:
    chip, model = detect_chip("", arch)
    assert chip in {"unknown", "loongson", "sunway"}
    assert model == ""


def test_parse_cpuinfo_keeps_first_value_and_lowers_keys() -> None:
    info = parse_cpuinfo(_cpuinfo("loongson-3a5000.txt"))
    assert info["system type"] == "generic-loongson-machine"
    assert info["model name"] == "Loongson-3A5000"
    assert info["processor"] == "0"
    assert parse_cpuinfo(_cpuinfo("kunpeng-920.txt"))["cpu architecture"] == "8"


# -- os-release --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "family", "os_id", "version_id", "pretty_name"),
    [
        (
            "kylin-v10-server",
            "kylin",
            "kylin",
            "V10",
            "Kylin Linux Advanced Server V10 (Sword)",
        ),
        ("kylin-v10-desktop", "kylin", "kylin", "v10", "Kylin V10 SP1"),
        ("uos-v20-server", "uos", "uos", "20", "UnionTech OS Server 20"),
        ("uos-v20-desktop", "uos", "uos", "20", "UnionTech OS Desktop 20 Pro"),
        (
            "uniontech-name-only",
            "uos",
            "UnionTech OS Server 20 Enterprise",
            "20",
            "UnionTech OS Server 20 Enterprise",
        ),
        ("openeuler-22.03", "openeuler", "openEuler", "22.03", "openEuler 22.03 (LTS-SP1)"),
        ("anolis-8.8", "anolis", "anolis", "8.8", "Anolis OS 8.8"),
        ("debian-12", "debian", "debian", "12", "Debian GNU/Linux 12 (bookworm)"),
        ("ubuntu-22.04", "other", "ubuntu", "22.04", "Ubuntu 22.04.4 LTS"),
    ],
)
def test_parse_os_release_fixture(
    fixture: str, family: str, os_id: str, version_id: str, pretty_name: str
) -> None:
    osr = parse_os_release(_os_release(fixture), kernel="4.19.90-52.22.v2207.ky10.aarch64")
    assert osr.family == family
    assert osr.id == os_id
    assert osr.version_id == version_id
    assert osr.pretty_name == pretty_name
    assert osr.kernel == "4.19.90-52.22.v2207.ky10.aarch64"


def test_kylin_desktop_name_keeps_its_chinese_version() -> None:
    fields = read_os_release(_os_release("kylin-v10-desktop"))
    assert fields["VERSION"] == "银河麒麟桌面操作系统V10 (SP1)"
    assert fields["ID_LIKE"] == "debian"


def test_broken_os_release() -> None:
    osr = parse_os_release(_os_release("broken"))
    assert osr.family == "other"
    assert osr.id == "linux"  # os-release(5) default
    assert osr.name == "Unterminated"
    assert osr.pretty_name == "Single $quoted"
    assert osr.version_id == "1 2"


@pytest.mark.parametrize("text", ["", "\n\n# only a comment\n", "garbage without equals"])
def test_empty_os_release(text: str) -> None:
    osr = parse_os_release(text, kernel="6.1.0")
    assert (osr.id, osr.name, osr.pretty_name, osr.version_id) == ("linux", "Linux", "Linux", "")
    assert osr.family == "other"
    assert osr.kernel == "6.1.0"


def test_os_release_quoting_and_comments() -> None:
    text = (
        "# comment\n"
        '  NAME="A \\"quoted\\" \\$name \\\\ x"  \n'
        "ID='it''s'\n"
        "VERSION_ID=7\n"
        "VERSION_ID=8\n"
        "#ID=debian\n"
    )
    fields = read_os_release(text)
    assert fields["NAME"] == 'A "quoted" $name \\ x'
    assert fields["ID"] == "it''s"  # not a shell: no concatenation, just outer quotes off
    assert fields["VERSION_ID"] == "8"


@pytest.mark.parametrize(
    ("text", "family"),
    [
        ("ID=neokylin\n", "kylin"),
        ("ID=deepin\nID_LIKE=debian\n", "other"),
        ("ID=openkylin\nID_LIKE=debian\nNAME=openKylin\n", "other"),
        ('ID=hce\nID_LIKE="openEuler"\n', "openeuler"),
        ('ID=centos\nID_LIKE="rhel fedora"\n', "other"),
        ('ID=foo\nNAME="UOS Server 20"\n', "uos"),
        ("ID=OpenEuler\n", "openeuler"),
    ],
)
def test_family_rules(text: str, family: str) -> None:
    assert parse_os_release(text).family == family


# -- NVIDIA ------------------------------------------------------------------------------------


def test_parse_nvidia_gpu() -> None:
    a100 = parse_nvidia_gpu((FIXTURES / "nvidia" / "a100-information.txt").read_text())
    assert a100 is not None
    assert (a100.model, a100.memory_bytes) == ("NVIDIA A100-SXM4-80GB", 80 * GIB)
    t4 = parse_nvidia_gpu((FIXTURES / "nvidia" / "t4-information.txt").read_text())
    assert t4 is not None
    assert (t4.model, t4.memory_bytes) == ("Tesla T4", 0)
    assert parse_nvidia_gpu("") is None
    assert parse_nvidia_gpu("IRQ: 5\n") is None


@pytest.mark.parametrize(
    ("fixture", "arch", "family"),
    [
        ("kunpeng-920.txt", "aarch64", "kunpeng"),
        ("phytium-s2500.txt", "aarch64", "phytium"),
        ("phytium-ft2000-4.txt", "aarch64", "phytium"),
        ("hygon-7380.txt", "x86_64", "hygon"),
        ("zhaoxin-kh-40000.txt", "x86_64", "zhaoxin"),
        ("loongson-3a5000.txt", "loongarch64", "loongson"),
        ("loongson-3c5000l.txt", "loongarch64", "loongson"),
        ("sunway-sw3231.txt", "sw_64", "sunway"),
        ("intel-xeon-gold-6330.txt", "x86_64", "intel"),
        ("amd-epyc-7763.txt", "x86_64", "amd"),
        ("ampere-altra-neoverse-n1.txt", "aarch64", "arm"),
        ("riscv64-unknown.txt", "riscv64", "unknown"),
    ],
)
def test_chip_family_of_each_sample(fixture: str, arch: str, family: str) -> None:
    chip, _model = detect_chip(_cpuinfo(fixture), arch)
    assert chip_family(chip) == family
    assert (family in DOMESTIC_FAMILIES) == (
        family in {"kunpeng", "phytium", "hygon", "zhaoxin", "loongson", "sunway"}
    )
