"""`tongchou console --web` in a real browser: Debian's chromium, driven by Playwright with the
system's browser (none is downloaded). The page asks for its password, shows the overview
of a live hub, switches views with keys, and its screenshots are kept."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path

import pytest
from playwright.async_api import Page, WebSocket, async_playwright

from tests.e2e.conftest import SAMPLE, Launcher, Proc
from tests.web.conftest import artifacts, plain, system_tool

pytestmark = pytest.mark.slow
PASSWORD = "wall-screen-2026"


def served_url(proc: Proc, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in proc.text().splitlines():
            if "serving the console at " in line:
                return line.rsplit(" ", 1)[1]
        if proc.popen.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"the web console did not start:\n{proc.text()}")


class Screen:
    """What the served console sent the browser over its WebSocket, as text."""

    def __init__(self, page: Page) -> None:
        self.data: list[str] = []
        page.on("websocket", self._socket)

    def _socket(self, ws: WebSocket) -> None:
        ws.on("framereceived", self._frame)

    def _frame(self, frame: str | bytes) -> None:
        self.data.append(frame if isinstance(frame, str) else frame.decode("utf-8", "replace"))

    def mark(self) -> int:
        return len(self.data)

    async def shows(self, words: str, since: int = 0, timeout: float = 40.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if words in plain("".join(self.data[since:])):
                return
            await asyncio.sleep(0.2)
        tail = plain("".join(self.data[since:]))[-2000:]
        raise AssertionError(f"{words!r} never reached the browser; it got:\n{tail}")


async def test_the_console_in_chromium(launch: Launcher, tmp_path: Path) -> None:
    chromium = system_tool("chromium", "chromium")
    hub = launch.hub("--fleet", str(SAMPLE))
    launch.spawn("simulate", "simulate", "--fleet", str(SAMPLE), "--hub", hub.address,
                 "--limit", "60")  # fmt: skip
    password_file = tmp_path / "web-password"
    password_file.write_text(PASSWORD + "\n", encoding="utf-8")
    web = launch.spawn(
        "web", "console", "--web", "--web-listen", "127.0.0.1:0",
        "--web-password-file", str(password_file), "--hub", hub.address, "--insecure",
        "--lang", "en", "--read-only", "--log-file", str(tmp_path / "console.log"),
    )  # fmt: skip
    url = served_url(web)
    keep = artifacts(tmp_path)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium)
        try:
            stranger = await browser.new_context()  # no password: the page is refused
            refused = await stranger.request.get(url)
            assert refused.status == 401 and "Basic" in refused.headers["www-authenticate"]
            await stranger.close()
            context = await browser.new_context(
                http_credentials={"username": "wall", "password": PASSWORD},
                viewport={"width": 1400, "height": 900},
            )
            page = await context.new_page()
            screen = Screen(page)
            answer = await page.goto(url)
            assert answer is not None and answer.status == 200
            await screen.shows("county")  # the overview's levels, from the live hub
            await screen.shows("read-only")
            await page.screenshot(path=keep / "web-console-overview.png")

            await page.locator("#terminal").click()
            for key, words in (("n", "Chip"), ("c", "Provider"), ("o", "county")):
                since = screen.mark()
                await page.keyboard.press(key)
                await screen.shows(words, since)
            since = screen.mark()
            await page.keyboard.press("n")
            await screen.shows("rows", since)
            await page.screenshot(path=keep / "web-console-nodes.png")
        finally:
            await browser.close()
    for shot in ("web-console-overview.png", "web-console-nodes.png"):
        assert (keep / shot).stat().st_size > 10_000
    # SIGTERM stops the server and the console it started for the tab; nothing is left
    assert web.stop(signal.SIGTERM, timeout=30) == 0
    assert consoles_left(tmp_path / "console.log") == []


def consoles_left(marker: Path) -> list[str]:
    """The console processes still running whose command line names `marker`."""
    deadline = time.monotonic() + 10
    while True:
        left = subprocess.run(
            ["pgrep", "-f", str(marker)], capture_output=True, text=True, check=False
        ).stdout.split()
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)
