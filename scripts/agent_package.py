"""Builds the agent as a DEB (dpkg-deb) or RPM (nfpm) package from its offline bundle.

    python scripts/agent_package.py --arch aarch64 --format deb [--out dist]
    (or: ./dev package aarch64 deb)

The package holds the bundle under /opt/tongchou/bundle, the systemd unit and the example
settings (a config file the package manager keeps on upgrade). Its post-install step runs the
bundle's install.sh, so the node needs no network: the agent lands in /opt/tongchou/venv.
For RPM the script writes an nfpm.yaml beside the staged files and runs nfpm when it is on
PATH (Kylin, openEuler and Anolis are RPM distributions).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from agent_bundle import PURE_ARCHES, WHEEL_ARCHES, BundleError, build, version

# uname -m → the package architecture (Debian names; nfpm takes the same and maps them for RPM)
PACKAGE_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "loongarch64": "loong64", "sw_64": "sw64"}
DISTRO_DEPENDS = ["python3-yaml", "python3-cryptography"]
DESCRIPTION = (
    "Tongchou (统筹) node agent\n"
    " Reports the node's capacity and usage to the Tongchou hub over gRPC with mutual TLS,\n"
    " and serves its own Prometheus metrics."
)
UNIT = "tongchou-agent.service"

POSTINST = """#!/bin/sh
set -e
# the agent's environment, from the wheels in the package: no network
/opt/tongchou/bundle/install.sh --prefix /opt/tongchou --no-service
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
echo "tongchou-agent: edit /etc/tongchou/agent.yaml, then: systemctl enable --now tongchou-agent"
"""
PRERM = """#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl stop tongchou-agent.service || true; fi
"""
POSTRM = """#!/bin/sh
set -e
case "$1" in
    remove|purge|0) rm -rf /opt/tongchou/venv ;;
esac
"""


def stage(bundle: Path, root: Path, unit_dir: str) -> None:
    """The package's files under `root`, as they land on the node."""
    shutil.copytree(bundle, root / "opt" / "tongchou" / "bundle")
    units = root / unit_dir.lstrip("/")
    units.mkdir(parents=True)
    shutil.copy(bundle / UNIT, units / UNIT)
    (root / "etc" / "tongchou").mkdir(parents=True)
    shutil.copy(bundle / "agent.example.yaml", root / "etc" / "tongchou" / "agent.yaml")


def depends(arch: str) -> list[str]:
    return ["python3 (>= 3.11)", "python3-venv"] + (DISTRO_DEPENDS if arch in PURE_ARCHES else [])


def deb(arch: str, bundle: Path, out: Path, work: Path) -> Path:
    if shutil.which("dpkg-deb") is None:
        raise BundleError("dpkg-deb not found (Debian package dpkg)")
    root = work / "deb"
    stage(bundle, root, "/lib/systemd/system")
    control = root / "DEBIAN"
    control.mkdir()
    (control / "control").write_text(
        f"Package: tongchou-agent\nVersion: {version()}\nArchitecture: {PACKAGE_ARCH[arch]}\n"
        "Maintainer: Tongchou maintainers <tongchou@localhost>\nSection: admin\n"
        f"Priority: optional\nDepends: {', '.join(depends(arch))}\nDescription: {DESCRIPTION}\n"
    )
    (control / "conffiles").write_text("/etc/tongchou/agent.yaml\n")
    for name, text in (("postinst", POSTINST), ("prerm", PRERM), ("postrm", POSTRM)):
        (control / name).write_text(text)
        (control / name).chmod(0o755)
    target = out / f"tongchou-agent_{version()}_{PACKAGE_ARCH[arch]}.deb"
    done = subprocess.run(
        ["dpkg-deb", "--root-owner-group", "--build", str(root), str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BundleError(f"dpkg-deb failed: {done.stderr}")
    return target


def rpm(arch: str, bundle: Path, out: Path) -> Path:
    """Writes out/nfpm-<arch>/ (staged files and nfpm.yaml); runs nfpm when it is installed."""
    where = out / f"nfpm-{arch}"
    shutil.rmtree(where, ignore_errors=True)
    root = where / "root"
    stage(bundle, root, "/usr/lib/systemd/system")
    for name, text in (("postinst.sh", POSTINST), ("prerm.sh", PRERM), ("postrm.sh", POSTRM)):
        (where / name).write_text(text)
    requires = ["python3 >= 3.11"] + (
        ["python3-pyyaml", "python3-cryptography"] if arch in PURE_ARCHES else []
    )
    lines = [
        "# nfpm recipe for the Tongchou agent (nfpm package --packager rpm --config nfpm.yaml)",
        "name: tongchou-agent",
        f"version: {version()}",
        f"arch: {PACKAGE_ARCH[arch]}",
        "maintainer: Tongchou maintainers <tongchou@localhost>",
        "description: Tongchou (统筹) node agent",
        "license: Apache-2.0",
        "depends:",
        *(f"  - {item}" for item in requires),
        "contents:",
        "  - src: root/opt/tongchou/bundle",
        "    dst: /opt/tongchou/bundle",
        f"  - src: root/usr/lib/systemd/system/{UNIT}",
        f"    dst: /usr/lib/systemd/system/{UNIT}",
        "  - src: root/etc/tongchou/agent.yaml",
        "    dst: /etc/tongchou/agent.yaml",
        "    type: config|noreplace",
        "scripts:",
        "  postinstall: postinst.sh",
        "  preremove: prerm.sh",
        "  postremove: postrm.sh",
    ]
    (where / "nfpm.yaml").write_text("\n".join(lines) + "\n")
    nfpm = shutil.which("nfpm")
    if nfpm is None:
        raise BundleError(
            f"nfpm not found; the recipe is ready in {where}: "
            f"cd {where} && nfpm package --packager rpm --config nfpm.yaml --target {out}"
        )
    done = subprocess.run(
        [nfpm, "package", "--packager", "rpm", "--config", "nfpm.yaml", "--target", str(out)],
        cwd=where,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BundleError(f"nfpm failed: {done.stderr}")
    return max(out.glob("tongchou-agent-*.rpm"), key=lambda p: p.stat().st_mtime)


def package(arch: str, kind: str, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tongchou-package-") as tmp:
        work = Path(tmp)
        archive = build(arch, work)
        with tarfile.open(archive) as tar:
            tar.extractall(work, filter="data")
        bundle = work / archive.name.removesuffix(".tar.gz")
        return deb(arch, bundle, out, work) if kind == "deb" else rpm(arch, bundle, out)


def main() -> int:
    parser = argparse.ArgumentParser(description="Builds the agent's DEB or RPM package.")
    parser.add_argument("--arch", required=True, choices=WHEEL_ARCHES + PURE_ARCHES)
    parser.add_argument("--format", required=True, choices=("deb", "rpm"))
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "dist")
    args = parser.parse_args()
    try:
        print(package(args.arch, args.format, args.out))
    except BundleError as err:
        print(f"agent_package: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
