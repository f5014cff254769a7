"""`tongchou ca`, `tongchou hub` and `tongchou agent` as processes, over mutual TLS."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from console.client import HubClient
from console.security.tls import TlsFiles
from tests.e2e.conftest import Launcher, free_port
from tests.e2e.waiting import eventually
from tongchou.v1 import inventory_pb2

pytestmark = pytest.mark.slow
NODE = "gz-tianhe-test-01"


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Launcher]:
    launcher = Launcher(tmp_path)
    try:
        yield launcher
    finally:
        launcher.close()


def tongchou(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tongchou", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def pki(directory: Path) -> None:
    assert tongchou("ca", "init", "--dir", str(directory)).returncode == 0
    for kind, name in (("hub", "hub"), ("node", NODE), ("node", "other-node")):
        done = tongchou("ca", "issue", "--dir", str(directory), "--kind", kind, "--name", name)
        assert done.returncode == 0, done.stderr


def add_user(directory: Path, store: Path, name: str) -> None:
    """A viewer account and a user certificate bound to it."""
    made = tongchou("user", "add", "--store", str(store), "--name", name, "--role", "viewer")
    assert made.returncode == 0, made.stderr
    done = tongchou(
        "ca",
        "issue",
        "--dir",
        str(directory),
        "--kind",
        "user",
        "--name",
        name,
        "--store",
        str(store),
    )
    assert done.returncode == 0, done.stderr


def tls_flags(directory: Path, name: str) -> tuple[str, ...]:
    return (
        "--tls-ca", str(directory / "ca.crt"),
        "--tls-cert", str(directory / f"{name}.crt"),
        "--tls-key", str(directory / f"{name}.key"),
    )  # fmt: skip


async def test_agent_reports_over_mutual_tls_and_a_borrowed_certificate_is_refused(
    launch: Launcher, tmp_path: Path
) -> None:
    d = tmp_path / "pki"
    pki(d)
    hub = launch.hub(*tls_flags(d, "hub"))
    add_user(d, hub.store, "ops")
    launch.agent(hub.address, *tls_flags(d, NODE))
    liar = launch.agent(hub.address, "--node", "province-db-01", *tls_flags(d, "other-node"))
    user = TlsFiles.in_dir(d, "ops").channel_credentials()

    async def node(name: str) -> inventory_pb2.Node | None:
        try:
            return await client.node(name)
        except grpc.aio.AioRpcError:
            return None

    async with HubClient(hub.address, user) as client:
        found = await eventually(lambda: node(NODE), what="the agent's node over mTLS")
        assert found.identity.node == NODE

        async def refused() -> bool | None:
            return True if "hub refused this node" in liar.text() else None

        await eventually(refused, what="the borrowed certificate's refusal")
        assert await node("province-db-01") is None
    assert "certificate is for node other-node" in liar.text()


def test_hub_without_tls_or_insecure_exits_2(tmp_path: Path) -> None:
    done = tongchou("hub", "--listen", "127.0.0.1:0", "--store", str(tmp_path / "h.db"))
    assert done.returncode == 2
    assert "--tls-ca" in done.stderr and "--insecure" in done.stderr


def test_agent_without_tls_or_insecure_exits_2() -> None:
    done = tongchou(
        "agent", "--division", "440106", "--site", "s", "--cluster", "c", "--provider", "p",
        "--mlps-level", "3",
    )  # fmt: skip
    assert done.returncode == 2
    assert "mutual TLS" in done.stderr


def test_insecure_hub_says_so_loudly(launch: Launcher) -> None:
    hub = launch.hub()
    assert "INSECURE" in hub.text()


async def test_agent_joins_with_a_token_then_reports(launch: Launcher, tmp_path: Path) -> None:
    d = tmp_path / "pki"
    pki(d)
    token_port = free_port()
    hub = launch.hub(
        *tls_flags(d, "hub"), "--ca-dir", str(d), "--token-listen", f"127.0.0.1:{token_port}"
    )
    add_user(d, hub.store, "ops")
    made = tongchou("token", "create", "--store", str(hub.store), "--node", "joiner-01")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    node_dir = tmp_path / "node"
    node_dir.mkdir()
    flags = (
        "--node", "joiner-01", "--join-token", token, "--join-hub", f"127.0.0.1:{token_port}",
        "--tls-ca", str(d / "ca.crt"), "--tls-cert", str(node_dir / "node.crt"),
        "--tls-key", str(node_dir / "node.key"),
    )  # fmt: skip
    launch.agent(hub.address, *flags)
    user = TlsFiles.in_dir(d, "ops").channel_credentials()
    async with HubClient(hub.address, user) as client:

        async def joined() -> inventory_pb2.Node | None:
            try:
                return await client.node("joiner-01")
            except grpc.aio.AioRpcError:
                return None

        await eventually(joined, what="the joined node")
    # the same token again, for a node without a certificate: refused, exit 2
    again = tongchou("agent", *flags[:-4], "--tls-cert", str(tmp_path / "x.crt"),
                     "--tls-key", str(tmp_path / "x.key"), "--hub", hub.address,
                     "--division", "440106", "--site", "s", "--cluster", "c",
                     "--provider", "on-prem", "--mlps-level", "3")  # fmt: skip
    assert again.returncode == 2
    assert "already used" in again.stderr
