"""Builds the agent's offline bundle for one CPU architecture: wheels, installer, unit, config.

    python scripts/agent_bundle.py --arch aarch64 [--out dist]     (or: ./dev bundle aarch64)

writes dist/tongchou-agent-<version>-<arch>.tar.gz holding

    wheels/            tongchou's wheel and every dependency from requirements/agent.txt,
                       each checked against the lock file's hashes as it is downloaded
    install.sh         one command on the node, no network: ./install.sh [--prefix /opt/tongchou]
    tongchou-agent.service, agent.example.yaml, README

On x86_64 and aarch64 every dependency has a wheel. On loongarch64 and sw_64 PyPI has none for
PyYAML and cryptography: the bundle carries only the pure-Python wheels (protobuf, h2, hpack,
hyperframe, dnspython) and the installer builds its environment on the distribution's
python3-pyyaml and python3-cryptography (--system-site-packages).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "agent.txt"
PYTHON = "3.11"
WHEEL_ARCHES = ("x86_64", "aarch64")
PURE_ARCHES = ("loongarch64", "sw_64")
# What the distributions package where PyPI has no wheel (and what those need).
FROM_DISTRIBUTION = frozenset({"pyyaml", "cryptography", "cffi", "pycparser"})
DISTRIBUTION_PACKAGES = "python3-pyyaml (python3-yaml) and python3-cryptography"
# manylinux tags a node of the arch can run; pip picks the newest wheel among them.
_MANYLINUX = [
    "manylinux1_{arch}",
    "manylinux2010_{arch}",
    "manylinux2014_{arch}",
    *(f"manylinux_2_{minor}_{{arch}}" for minor in (5, 12, 17, 24, 26, 27, 28, 31, 34)),
]


class BundleError(RuntimeError):
    """The bundle cannot be built; the message says why."""


def version() -> str:
    found = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    if found is None:
        raise BundleError("pyproject.toml: no version")
    return found.group(1)


def locked(leave_out: frozenset[str] = frozenset()) -> str:
    """requirements/agent.txt's entries with their hashes, but those named in `leave_out`."""
    blocks: list[list[str]] = []
    for line in LOCK.read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            blocks.append([line])
        elif blocks and line.strip().startswith("--hash"):
            blocks[-1].append(line)
    out = []
    for block in blocks:
        name = re.split(r"[=<>; ]", block[0], maxsplit=1)[0].lower()
        if name not in leave_out:
            out.append("\n".join(block).rstrip(" \\"))
    return "\n".join(out) + "\n"


def run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BundleError(f"{' '.join(argv[:4])} … failed:\n{done.stdout}{done.stderr}")


def download(arch: str, wheels: Path, work: Path) -> None:
    """Every locked dependency as a wheel for `arch` (pure-Python ones only on PURE_ARCHES)."""
    pure = arch in PURE_ARCHES
    requirements = work / "requirements.txt"
    requirements.write_text(locked(FROM_DISTRIBUTION if pure else frozenset()))
    platforms = ["any"] if pure else [tag.format(arch=arch) for tag in _MANYLINUX]
    argv = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--disable-pip-version-check",
        "-q",
        "--require-hashes",
        "--no-deps",
        "--only-binary=:all:",
        "-r",
        str(requirements),
        "--python-version",
        PYTHON,
        "--implementation",
        "cp",
        "-d",
        str(wheels),
    ]
    for tag in platforms:
        argv += ["--platform", tag]
    run(argv)


INSTALL_SH = r"""#!/bin/sh
# Installs the Tongchou agent @VERSION@ for @ARCH@ from this bundle, with no network.
#   ./install.sh [--prefix /opt/tongchou] [--no-service]
# The agent goes into PREFIX/venv; as root (and unless --no-service) the systemd unit goes to
# /etc/systemd/system and the example settings to /etc/tongchou/agent.yaml (kept if present).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prefix=/opt/tongchou
service=1
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || { echo "install.sh: --prefix needs a directory" >&2; exit 2; }
                  prefix=$2; shift 2 ;;
        --no-service) service=0; shift ;;
        *) echo "install.sh: unknown option $1 (use --prefix DIR, --no-service)" >&2; exit 2 ;;
    esac
done
python=${PYTHON:-python3}
want='import sys; sys.exit(sys.version_info[:2] != (@PYMAJOR@, @PYMINOR@))'
if ! "$python" -c "$want" 2>/dev/null; then
    echo "install.sh: this bundle is for Python @PYTHON@; $python is $("$python" --version 2>&1)" \
         "(set PYTHON=/path/to/python@PYTHON@)" >&2
    exit 2
fi
machine=$(uname -m)
if [ "$machine" != "@ARCH@" ]; then
    echo "install.sh: this bundle is for @ARCH@ and this machine is $machine" >&2
    exit 2
fi
venv_flags=""
if [ "@SYSTEM@" = 1 ]; then
    if ! "$python" -c 'import yaml, cryptography' 2>/dev/null; then
        echo "install.sh: first install the distribution's @DISTRO@ (dnf, yum or apt)" >&2
        exit 2
    fi
    venv_flags=--system-site-packages
fi
"$python" -m venv $venv_flags "$prefix/venv"
"$prefix/venv/bin/python" -m pip install --no-index --find-links "$here/wheels" \
    --disable-pip-version-check -q "tongchou==@VERSION@"
echo "installed $prefix/venv/bin/tongchou-agent"
if [ "$service" = 1 ] && [ "$(id -u)" = 0 ]; then
    mkdir -p /etc/tongchou
    settings=/etc/tongchou/agent.yaml
    [ -e "$settings" ] || install -m 0644 "$here/agent.example.yaml" "$settings"
    sed "s#/opt/tongchou/venv#$prefix/venv#" "$here/tongchou-agent.service" \
        > /etc/systemd/system/tongchou-agent.service
    if command -v systemctl >/dev/null 2>&1; then systemctl daemon-reload || true; fi
    echo "edit /etc/tongchou/agent.yaml, then: systemctl enable --now tongchou-agent"
fi
"""


def installer(arch: str) -> str:
    major, minor = PYTHON.split(".")
    values = {
        "VERSION": version(),
        "ARCH": arch,
        "PYTHON": PYTHON,
        "PYMAJOR": major,
        "PYMINOR": minor,
        "SYSTEM": "1" if arch in PURE_ARCHES else "0",
        "DISTRO": DISTRIBUTION_PACKAGES,
    }
    text = INSTALL_SH
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text


# what the wheel is built from: the work tree without environments, caches and old builds
# (setuptools copies into build/ and would package a module since deleted from the tree)
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"
)


def source(work: Path) -> Path:
    """A clean copy of the project to build the wheel from."""
    copy = work / "source"
    shutil.copytree(ROOT, copy, ignore=_NOT_SOURCE, symlinks=True)
    return copy


def build(arch: str, out: Path) -> Path:
    """Builds the bundle; returns the path of its .tar.gz."""
    if arch not in WHEEL_ARCHES + PURE_ARCHES:
        known = ", ".join(WHEEL_ARCHES + PURE_ARCHES)
        raise BundleError(f"unknown architecture {arch!r} (one of {known})")
    name = f"tongchou-agent-{version()}-{arch}"
    with tempfile.TemporaryDirectory(prefix="tongchou-bundle-") as tmp:
        work = Path(tmp)
        top = work / name
        wheels = top / "wheels"
        wheels.mkdir(parents=True)
        wheel = [sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check", "-q"]
        run([*wheel, "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source(work))])
        download(arch, wheels, work)
        script = top / "install.sh"
        script.write_text(installer(arch))
        script.chmod(0o755)
        shutil.copy(ROOT / "deploy" / "systemd" / "tongchou-agent.service", top)
        shutil.copy(ROOT / "deploy" / "agent.example.yaml", top)
        (top / "README").write_text(
            f"Tongchou agent {version()} for {arch}: ./install.sh [--prefix /opt/tongchou]\n"
            + (
                ""
                if arch in WHEEL_ARCHES
                else f"Needs the distribution's {DISTRIBUTION_PACKAGES}.\n"
            )
        )
        out.mkdir(parents=True, exist_ok=True)
        archive = out / f"{name}.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(top, arcname=name)
    return archive


def main() -> int:
    parser = argparse.ArgumentParser(description="Builds the agent's offline bundle for one arch.")
    parser.add_argument("--arch", required=True, choices=WHEEL_ARCHES + PURE_ARCHES)
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output directory (dist)")
    args = parser.parse_args()
    try:
        archive = build(args.arch, args.out)
    except BundleError as err:
        print(f"agent_bundle: {err}", file=sys.stderr)
        return 1
    print(archive)
    return 0


if __name__ == "__main__":
    sys.exit(main())
