"""The demo's Prometheus: Debian's `prometheus` scraping the demo's hub with the chart's
recording and alert rules, so the console has history; the demo says so when it is missing."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import aiohttp
import yaml

PR_SET_PDEATHSIG = 1  # prctl(2)
INSTALL_HINT = "Debian: apt-get install prometheus"
PID_FILE = "prometheus.pid"


def rules_file() -> Path:
    """The chart's rules (charts/tongchou/files/alerts.yaml), shipped in the package."""
    return Path(str(resources.files("console.prometheus_rules") / "rules.yaml"))


def config(hub_metrics: str, scrape_seconds: float) -> dict[str, object]:
    """A Prometheus configuration: the hub as job `tongchou-hub`, the chart's rules."""
    interval = f"{max(1, round(scrape_seconds * 1000))}ms"  # Prometheus takes whole units
    timeout = f"{max(1, round(min(scrape_seconds * 0.9, 10.0) * 1000))}ms"
    return {
        "global": {
            "scrape_interval": interval,
            "evaluation_interval": interval,
            "scrape_timeout": timeout,
        },
        "rule_files": [str(rules_file())],
        "scrape_configs": [
            {"job_name": "tongchou-hub", "static_configs": [{"targets": [hub_metrics]}]}
        ],
    }


@dataclass
class DemoPrometheus:
    process: asyncio.subprocess.Process
    url: str
    log: Path

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


def _stop_left_over(directory: Path, config_file: Path) -> None:
    """Ends the Prometheus an earlier demo on this folder left running (a demo killed with
    SIGKILL cannot stop it): the pid it wrote, if that process still runs this config."""
    try:
        pid = int((directory / PID_FILE).read_text(encoding="ascii"))
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return
    if f"--config.file={config_file}".encode() in cmdline.split(b"\0"):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        for _ in range(100):  # its data folder is locked until it has gone
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.1)


def _prepare(directory: Path, settings: dict[str, object]) -> tuple[Path, Path]:
    """Writes the configuration into `directory`; the paths of it and of the log."""
    directory.mkdir(parents=True, exist_ok=True)
    config_file = directory / "prometheus.yml"
    _stop_left_over(directory, config_file)
    config_file.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return config_file, directory / "prometheus.log"


async def _ours_and_ready(http: aiohttp.ClientSession, url: str, config_file: Path) -> bool:
    """Whether the Prometheus at `url` runs `config_file` (not another one holding the port)
    and is ready."""
    async with http.get(f"{url}/api/v1/status/flags") as response:
        flags = (await response.json()).get("data") or {}
    if flags.get("config.file") != str(config_file):
        return False
    async with http.get(f"{url}/-/ready") as response:
        return response.status == 200


async def start(
    directory: Path, listen: str, hub_metrics: str, scrape_seconds: float, timeout: float = 30.0
) -> DemoPrometheus | str:
    """Starts Prometheus with its data in `directory` and waits until it is ready; or says
    why not (not installed, would not start) as a sentence for the operator."""
    binary = shutil.which("prometheus")
    if binary is None:
        return f"Prometheus is not installed ({INSTALL_HINT}): the console shows no history"
    config_file, log = await asyncio.to_thread(
        _prepare, directory, config(hub_metrics, scrape_seconds)
    )
    out = await asyncio.to_thread(log.open, "ab")
    with out:
        process = await asyncio.create_subprocess_exec(
            binary,
            f"--config.file={config_file}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address={listen}",
            "--storage.tsdb.retention.time=30d",
            stdout=out,
            stderr=out,
            cwd=directory,
            preexec_fn=_die_with_parent,
        )
    await asyncio.to_thread((directory / PID_FILE).write_text, str(process.pid), "ascii")
    running = DemoPrometheus(process, f"http://{listen}", log)
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while time.monotonic() < deadline and process.returncode is None:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
                if await _ours_and_ready(http, running.url, config_file):
                    return running
            await asyncio.sleep(0.25)
    await running.stop()
    return f"Prometheus did not start on {listen} (its log: {log}): the console shows no history"


def _die_with_parent() -> None:
    """In the child before exec: Linux sends it SIGTERM when the demo dies, however it dies
    (a demo killed with SIGKILL leaves no Prometheus holding the port)."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
