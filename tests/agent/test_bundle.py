"""The offline bundle: built, installed with no index into a clean venv that has no grpcio, and
that agent joins a real hub over mutual TLS, reports, and renews its certificate."""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from console.hub.config import HubConfig
from console.hub.server import Hub
from console.security.pki import CertificateAuthority, identity_of
from console.security.tls import TlsFiles
from console.store import SqliteStore

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
LIFETIME_DAYS = 6 / 86400  # six seconds: renewal is due after four


def build(arch: str, out: Path) -> Path:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/agent_bundle.py"), "--arch", arch, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    archive = Path(done.stdout.strip())
    with tarfile.open(archive) as tar:
        tar.extractall(out, filter="data")
    return out / archive.name.removesuffix(".tar.gz")


def no_network() -> list[str]:
    """`unshare -n` (a network namespace with only a down loopback) where it is allowed."""
    if shutil.which("unshare") is None:
        return []
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
    return ["unshare", "-n"] if probe.returncode == 0 else []


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The bundle for this machine, installed offline; yields the venv's bin directory."""
    out = tmp_path_factory.mktemp("bundle")
    bundle = build(platform.machine(), out)
    prefix = out / "opt"
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "PIP_NO_INDEX": "1",
        "PIP_CONFIG_FILE": "/dev/null",
    }
    done = subprocess.run(
        [*no_network(), str(bundle / "install.sh"), "--prefix", str(prefix), "--no-service"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    yield prefix / "venv" / "bin"


def test_the_bundle_installs_offline_without_grpcio(installed: Path) -> None:
    python = str(installed / "python")
    found = subprocess.run(
        [python, "-c", "import importlib.util as u; print(u.find_spec('grpc') is None)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip() == "True", "grpcio must not be in the agent's install"
    once = subprocess.run(
        [str(installed / "tongchou-agent"), "--once", "--division", "440106"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert '"division": "440106"' in once.stdout
    forced = subprocess.run(
        [
            str(installed / "tongchou-agent"),
            "--transport",
            "grpcio",
            "--insecure",
            "--division",
            "440106",
            "--site",
            "s",
            "--cluster",
            "c",
            "--provider",
            "p",
            "--mlps-level",
            "3",
            "--metrics-listen",
            "",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert forced.returncode == 1
    assert "flag --transport: no gRPC transport can be loaded: grpcio" in forced.stderr


def test_a_bundle_for_loongarch64_carries_only_pure_python_wheels(tmp_path: Path) -> None:
    bundle = build("loongarch64", tmp_path)
    wheels = sorted(p.name for p in (bundle / "wheels").iterdir())
    assert all(name.endswith("-py3-none-any.whl") for name in wheels), wheels
    names = {name.split("-")[0].lower() for name in wheels}
    assert names == {"tongchou", "protobuf", "h2", "hpack", "hyperframe", "dnspython"}
    script = (bundle / "install.sh").read_text()
    assert "--system-site-packages" in script and "python3-cryptography" in script
    wrong = subprocess.run(
        [str(bundle / "install.sh"), "--prefix", str(tmp_path / "opt"), "--no-service"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHON": sys.executable},
        check=False,
    )
    assert wrong.returncode == 2
    assert (
        f"this bundle is for loongarch64 and this machine is {platform.machine()}" in wrong.stderr
    )


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[tuple[Hub, CertificateAuthority]]:
    ca = CertificateAuthority.init(tmp_path / "ca")
    hub_cert = ca.issue("hub", "hub")
    config = HubConfig(
        listen="127.0.0.1:0",
        metrics_listen="",
        report_interval=0.5,
        tls=TlsFiles(ca.cert_pem, hub_cert.cert_pem, hub_cert.key_pem),
        ca_dir=tmp_path / "ca",
        token_listen="127.0.0.1:0",
        node_cert_days=LIFETIME_DAYS,
    )
    server = Hub(config, SqliteStore(tmp_path / "hub.db"))
    await server.start()
    try:
        yield server, ca
    finally:
        await server.shutdown()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


async def test_the_installed_agent_joins_reports_and_renews_over_mutual_tls(
    installed: Path, hub: tuple[Hub, CertificateAuthority], tmp_path: Path
) -> None:
    server, ca = hub
    assert server.credentials is not None
    node = tmp_path / "node"
    node.mkdir()
    (node / "ca.crt").write_bytes(ca.cert_pem)
    token = server.credentials.create_token("loong-01", ttl=60)
    metrics = free_port()
    log = tmp_path / "agent.log"
    agent = await asyncio.create_subprocess_exec(
        str(installed / "tongchou-agent"),
        "--hub",
        f"127.0.0.1:{server.port}",
        "--join-hub",
        f"127.0.0.1:{server.token_port}",
        "--join-token",
        token,
        "--node",
        "loong-01",
        "--division",
        "440106",
        "--site",
        "gz-tianhe-dc",
        "--cluster",
        "gz-tianhe-a",
        "--provider",
        "on-prem",
        "--mlps-level",
        "3",
        "--tls-ca",
        str(node / "ca.crt"),
        "--tls-cert",
        str(node / "node.crt"),
        "--tls-key",
        str(node / "node.key"),
        "--interval",
        "0.5s",
        "--renew-check",
        "0.5s",
        "--metrics-listen",
        f"127.0.0.1:{metrics}",
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        cwd=tmp_path,
    )
    try:
        sequences: list[int] = []
        first_serial = None
        renewed = False
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and not renewed:
            await asyncio.sleep(0.5)
            assert agent.returncode is None, log.read_text()
            entry = server.inventory.nodes.get("loong-01")
            if entry is None:
                continue
            sequences.append(entry.report.sequence)
            serial = identity_of((node / "node.crt").read_bytes()).serial
            first_serial = first_serial or serial
            text = await asyncio.to_thread(scrape, metrics)
            renewed = (
                serial != first_serial and "tongchou_agent_certificate_renewals_total 1" in text
            )
        assert renewed, log.read_text()
        assert 'transport="h2"' in text
        assert sequences == sorted(sequences) and sequences[-1] > sequences[0]
        # reports keep arriving on the renewed certificate
        before = server.inventory.nodes["loong-01"].report.sequence
        await asyncio.sleep(2.0)
        assert server.inventory.nodes["loong-01"].report.sequence > before
        assert server.inventory.nodes["loong-01"].report.identity.division == "440106"
    finally:
        agent.terminate()
        await asyncio.wait_for(agent.wait(), 15)
