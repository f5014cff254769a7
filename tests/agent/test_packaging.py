"""The agent's DEB package and systemd unit: built with dpkg-deb, its post-install step run
into a temporary prefix, and the unit checked by systemd-analyze verify against that install
(this machine runs no systemd as PID 1, so the unit is verified, not started)."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
UNIT = "tongchou-agent.service"


def verify(unit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb not found (Debian package dpkg)")
    out = tmp_path_factory.mktemp("package")
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts/agent_package.py"),
            "--arch",
            platform.machine(),
            "--format",
            "deb",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    package = Path(done.stdout.strip())
    info = subprocess.run(
        ["dpkg-deb", "-I", str(package)], capture_output=True, text=True, check=True
    )
    assert "Package: tongchou-agent" in info.stdout
    assert "Depends: python3 (>= 3.11), python3-venv" in info.stdout
    root = out / "root"
    subprocess.run(["dpkg-deb", "-x", str(package), str(root)], check=True)
    subprocess.run(["dpkg-deb", "-e", str(package), str(root / "DEBIAN")], check=True)
    return root


def test_the_package_holds_unit_settings_bundle_and_scripts(unpacked: Path) -> None:
    assert (unpacked / "lib/systemd/system" / UNIT).is_file()
    assert (unpacked / "etc/tongchou/agent.yaml").is_file()
    assert (unpacked / "DEBIAN/conffiles").read_text() == "/etc/tongchou/agent.yaml\n"
    postinst = (unpacked / "DEBIAN/postinst").read_text()
    assert "/opt/tongchou/bundle/install.sh --prefix /opt/tongchou --no-service" in postinst
    wheels = {p.name.split("-")[0] for p in (unpacked / "opt/tongchou/bundle/wheels").iterdir()}
    assert {"tongchou", "protobuf", "h2", "hpack", "hyperframe", "cryptography"} <= wheels
    assert not wheels & {"grpcio", "psutil", "prometheus_client"}


def test_the_unit_verifies_against_the_installed_agent(unpacked: Path, tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze not found (Debian package systemd)")
    prefix = tmp_path / "opt"
    done = subprocess.run(  # what postinst does, into a temporary prefix
        [str(unpacked / "opt/tongchou/bundle/install.sh"), "--prefix", str(prefix), "--no-service"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "PYTHON": sys.executable},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    unit = (unpacked / "lib/systemd/system" / UNIT).read_text()
    installed = tmp_path / UNIT
    installed.write_text(unit.replace("/opt/tongchou/venv", str(prefix / "venv")))
    checked = verify(installed)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # the check can fail: the same unit with the agent missing does not verify
    missing = tmp_path / "missing" / UNIT
    missing.parent.mkdir()
    missing.write_text(unit.replace("/opt/tongchou/venv", str(tmp_path / "nowhere")))
    assert verify(missing).returncode != 0
