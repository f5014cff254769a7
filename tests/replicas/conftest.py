"""Hub replicas as real processes on a real PostgreSQL server, with simulated agents."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import HubProc, Launcher
from tests.pgserver import PostgresServer, postgres_server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    yield from postgres_server()


class Replicas(Launcher):
    """Starts hub replicas on one PostgreSQL database (password in the environment)."""

    def __init__(self, tmp: Path, server: PostgresServer, url: str) -> None:
        super().__init__(tmp)
        self.server = server
        self.url = url
        self.env["TONGCHOU_STORE_PASSWORD"] = server.password

    def replica(self, name: str, *extra: str) -> HubProc:
        ready = self.tmp / f"ready-{name}-{len(self.procs)}.json"
        proc = self.spawn(
            f"hub-{name}",
            "hub",
            "--listen", "127.0.0.1:0",
            "--metrics-listen", "127.0.0.1:0",
            "--store", self.url,
            "--replica-name", name,
            "--ready-file", str(ready),
            "--report-interval", "0.5s",
            "--heartbeat-every", "2s",
            "--election-retry", "0.2s",
            "--replica-sync", "0.5s",
            *(() if "--tls-ca" in extra else ("--insecure",)),
            *extra,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while not ready.exists():
            if proc.popen.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"hub {name} did not start:\n{proc.text()}")
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        hub = HubProc(proc.popen, proc.log, info["grpc_port"], info["metrics_port"], ready)
        self.procs[-1] = hub
        return hub


def metric(hub: HubProc, name: str) -> float | None:
    """One unlabelled sample from the hub's /metrics, or None when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{hub.metrics_port}/metrics", timeout=2) as r:
            text = r.read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


async def leader_of(hubs: list[HubProc], timeout: float = 30.0) -> HubProc:
    """The one replica whose tongchou_hub_leader is 1 (waits until exactly one says so)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        leading = [
            h
            for h in hubs
            if h.popen.poll() is None
            and await asyncio.to_thread(metric, h, "tongchou_hub_leader") == 1.0
        ]
        if len(leading) == 1:
            return leading[0]
        await asyncio.sleep(0.05)
    raise AssertionError("no single leader among the replicas")


@pytest.fixture
def replicas(tmp_path: Path, pg_server: PostgresServer) -> Iterator[Replicas]:
    launcher = Replicas(tmp_path, pg_server, pg_server.url(pg_server.create_database()))
    try:
        yield launcher
    finally:
        launcher.close()
