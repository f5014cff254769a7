"""`tongchou demo --headless`: hub, simulated province and this machine's agent, clean stop."""

from __future__ import annotations

import asyncio
import re
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.client import HubClient
from console.security.tls import TlsFiles
from tests.e2e.conftest import Launcher
from tongchou.v1 import inventory_pb2

# one demo at a time: each starts Prometheus on the demo's default port
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]


def test_headless_demo_prints_the_live_fleet_and_stops_cleanly(
    launch: Launcher, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    demo = launch.spawn(
        "demo", "demo", "--headless", "--duration", "10s", "--every", "5s", "--limit", "150",
        "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--state-dir", str(state),
    )  # fmt: skip
    # a second client attaches with the certificates the demo names, while it runs
    deadline = time.monotonic() + 40
    while not (hint := re.search(r"A second console: tongchou console (.*)$", demo.text(), re.M)):
        assert time.monotonic() < deadline and demo.popen.poll() is None, demo.text()
        time.sleep(0.1)
    attached = subprocess.run(
        [sys.executable, "-m", "tongchou", "workload", *hint.group(1).split(), "list"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert attached.returncode == 0, attached.stderr
    instances = asyncio.run(_platform_instances(hint.group(1).split()))
    assert len(instances) == 10  # the sample province's catalog, for the situation view
    assert demo.popen.wait(60) == 0, demo.text()
    out = demo.text()
    assert out.startswith("tongchou demo [  0."), out  # a word on what it does, at once
    assert "150 simulated nodes + this machine's agent" in out
    assert "mutual TLS" in out and (state / "pki" / "ca.crt").exists()
    totals = re.findall(r"^total\s+([\d,]+)\s+(\d+)\s+(\d+)", out, re.MULTILINE)
    assert totals, out
    ready = int(totals[-1][0].replace(",", ""))
    assert ready == 151, out
    for level in ("province", "city", "county"):
        assert re.search(rf"^{level}\s+\d", out, re.MULTILINE), f"no {level} row:\n{out}"
    assert "workloads: 10, " in out
    assert "demo stopped" in out
    with sqlite3.connect(state / "hub.db") as db:
        (stored,) = db.execute("SELECT COUNT(*) FROM nodes").fetchone()
        local = db.execute("SELECT cluster FROM nodes WHERE name = ?", (socket.gethostname(),))
        row = local.fetchone()
    assert stored == 151
    assert row is not None, "this machine's own agent registered"


async def _platform_instances(flags: list[str]) -> list[inventory_pb2.PlatformInstance]:
    """The platform instances of the hub named by `--hub … --tls-ca … --tls-cert … --tls-key …`."""
    given = dict(zip(flags[::2], flags[1::2], strict=True))
    tls = TlsFiles.read(*(Path(given[f"--tls-{part}"]) for part in ("ca", "cert", "key")))
    async with HubClient(given["--hub"], tls.channel_credentials()) as client:
        return await client.platform_instances()


def test_demo_with_a_broken_fleet_file_says_where_and_exits_2(
    launch: Launcher, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: tongchou.io/v1\nkind: Cluster\nmetadata: {name: x}\n"
        "spec: {site: nowhere, mlpsLevel: 3}\n",
        encoding="utf-8",
    )
    demo = launch.spawn("demo", "demo", "--headless", "--fleet", str(bad))
    assert demo.popen.wait(30) == 2
    assert f"{bad}:4: document 1 (Cluster x): spec.site" in demo.text()


def test_demo_with_a_broken_catalog_says_where_and_exits_2(
    launch: Launcher, tmp_path: Path
) -> None:
    bad = tmp_path / "catalog.yaml"
    bad.write_text(
        "apiVersion: tongchou.io/v1\nkind: Platform\nmetadata: {name: p}\nspec: {colour: red}\n",
        encoding="utf-8",
    )
    state = str(tmp_path / "state")
    demo = launch.spawn("demo", "demo", "--headless", "--state-dir", state, "--catalog", str(bad))
    assert demo.popen.wait(30) == 2, demo.text()
    assert "the catalog documents are invalid" in demo.text()
    assert f"{bad}:4" in demo.text() and "colour" in demo.text()
