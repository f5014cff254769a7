"""The web console's gate and flags: the page, its files and its WebSocket need the password;
bad web flags are refused with exit 2 and say which flag and why."""

from __future__ import annotations

import base64
import socket as socket_module
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from console.tui.web_gate import COOKIE, GUESS_RATE, GUESSES, MAX_SESSIONS, Gate

PASSWORD = "长城-wall-42"


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def page(_request: web.Request) -> web.Response:
    return web.Response(text="the console")


async def socket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_str("hello")
    await ws.close()
    return ws


@pytest.fixture
async def client() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    gate = Gate(PASSWORD, secure=False)
    app = web.Application(middlewares=[gate.middleware])
    app.add_routes([web.get("/", page), web.get("/ws", socket)])
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_no_password_is_asked_for_one(
    client: TestClient[web.Request, web.Application],
) -> None:
    answer = await client.get("/")
    assert answer.status == 401
    assert answer.headers["WWW-Authenticate"].startswith('Basic realm="Tongchou console"')
    assert "the console" not in await answer.text()


async def test_a_wrong_password_is_refused(
    client: TestClient[web.Request, web.Application],
) -> None:
    for password in ("wrong", "", PASSWORD.upper()):
        assert (await client.get("/", headers=basic("op", password))).status == 401
    garbage = await client.get("/", headers={"Authorization": "Basic !!not-base64"})
    assert garbage.status == 401


async def test_the_password_opens_the_page_and_gives_a_session(
    client: TestClient[web.Request, web.Application],
) -> None:
    answer = await client.get("/", headers=basic("any-user", PASSWORD))
    assert answer.status == 200 and await answer.text() == "the console"
    cookie = answer.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    # the page's WebSocket carries the session cookie, not the password
    async with client.ws_connect("/ws") as ws:
        assert (await ws.receive_str()) == "hello"


async def test_the_websocket_needs_the_password_too(
    client: TestClient[web.Request, web.Application],
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws")
    assert refused.value.status == 401
    client.session.cookie_jar.update_cookies({COOKIE: "guessed"})
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await client.ws_connect("/ws")


async def test_a_websocket_from_another_sites_page_is_refused(
    client: TestClient[web.Request, web.Application],
) -> None:
    auth = basic("op", PASSWORD)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", headers={**auth, "Origin": "https://evil.example"})
    assert refused.value.status == 403
    here = f"http://{client.host}:{client.port}"
    async with client.ws_connect("/ws", headers={**auth, "Origin": here}) as ws:
        assert (await ws.receive_str()) == "hello"


async def test_sessions_are_bounded() -> None:
    gate = Gate(PASSWORD, secure=True)
    app = web.Application(middlewares=[gate.middleware])
    app.add_routes([web.get("/", page)])
    async with TestClient(TestServer(app)) as test_client:
        first = await test_client.get("/", headers=basic("op", PASSWORD))
        assert first.cookies[COOKIE]["secure"]
        for _ in range(MAX_SESSIONS):
            test_client.session.cookie_jar.clear()
            await test_client.get("/", headers=basic("op", PASSWORD))
    assert len(gate._sessions) == MAX_SESSIONS


def console(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tongchou", "console", "--insecure", "--web", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        ((), "--web needs --web-password-file"),
        (("--web-password-file", "{tmp}/missing"), "--web-password-file {tmp}/missing: No such"),
        (("--web-password-file", "{tmp}/empty"), "the first line (the password) is empty"),
        (
            ("--web-password-file", "{tmp}/pw", "--web-listen", "localhost"),
            "--web-listen 'localhost': give HOST:PORT",
        ),
        (
            ("--web-password-file", "{tmp}/pw", "--web-tls-cert", "{tmp}/pw"),
            "HTTPS needs both --web-tls-cert and --web-tls-key",
        ),
        (
            (
                "--web-password-file",
                "{tmp}/pw",
                "--web-tls-cert",
                "{tmp}/pw",
                "--web-tls-key",
                "{tmp}/pw",
            ),
            "--web-tls-cert {tmp}/pw / --web-tls-key {tmp}/pw:",
        ),
        (
            ("--web-password-file", "{tmp}/pw", "--web-listen", "192.0.2.1:8470"),
            "--web-listen 192.0.2.1:8470: ",
        ),
    ],
)
def test_bad_web_flags_exit_2_and_say_which(
    tmp_path: Path, flags: tuple[str, ...], said: str
) -> None:
    (tmp_path / "empty").write_text("\n")
    (tmp_path / "pw").write_text("secret\n")
    done = console(*(f.format(tmp=tmp_path) for f in flags))
    assert done.returncode == 2, done.stderr
    assert said.format(tmp=tmp_path) in done.stderr


def test_clear_text_off_this_machine_is_warned(tmp_path: Path) -> None:
    """An address other than loopback without HTTPS is said (and refused here only because
    no such address is this machine's)."""
    (tmp_path / "pw").write_text("secret\n")
    done = console("--web-password-file", f"{tmp_path}/pw", "--web-listen", "192.0.2.1:0")
    assert "without --web-tls-cert: the password and the console cross the network" in done.stderr
    with socket_module.socket() as taken:  # loopback is not warned (the port is taken here)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        quiet = console(
            "--web-password-file", f"{tmp_path}/pw", "--web-listen", f"127.0.0.1:{port}"
        )
    assert quiet.returncode == 2 and f"--web-listen 127.0.0.1:{port}: " in quiet.stderr
    assert "clear text" not in quiet.stderr


def test_each_browser_tab_runs_the_console_with_this_ones_flags(tmp_path: Path) -> None:
    import argparse
    import shlex

    from console.tui.cli import add_arguments
    from console.tui.web import console_command

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    ca = tmp_path / "prom-ca.crt"
    flags = ["--web", "--insecure", "--read-only", "--national", "--lang", "zh"]
    args = parser.parse_args(
        [*flags, "--prometheus", "https://prom.x:9090", "--prometheus-ca", str(ca)]
    )
    argv = shlex.split(console_command(args))
    assert argv[argv.index("--prometheus") + 1] == "https://prom.x:9090"
    assert argv[argv.index("--prometheus-ca") + 1] == str(ca)
    assert {"--insecure", "--read-only", "--national"} <= set(argv) and "--web" not in argv


async def test_guessing_is_slowed_per_address_and_the_right_password_waits_too() -> None:
    now = [1000.0]
    gate = Gate(PASSWORD, secure=False, clock=lambda: now[0])
    app = web.Application(middlewares=[gate.middleware])
    app.add_routes([web.get("/", page)])
    async with TestClient(TestServer(app)) as test_client:
        assert (await test_client.get("/")).status == 401  # no password: not a guess
        for i in range(GUESSES):
            assert (await test_client.get("/", headers=basic("op", f"guess-{i}"))).status == 401
        refused = await test_client.get("/", headers=basic("op", PASSWORD))
        assert refused.status == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert "稍后再试" in await refused.text()
        now[0] += 1 / GUESS_RATE  # one try given back
        test_client.session.cookie_jar.clear()
        assert (await test_client.get("/", headers=basic("op", PASSWORD))).status == 200
        # a session already given is not slowed by guesses from the same address
        for i in range(GUESSES + 2):
            await test_client.get("/", headers=basic("op", f"again-{i}"))
        assert (await test_client.get("/")).status == 200


async def test_wrong_passwords_are_logged_with_the_address(
    client: TestClient[web.Request, web.Application], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="console.tui.web_gate"):
        await client.get("/", headers=basic("op", "wrong"))
        await client.get("/", headers=basic("op", PASSWORD))
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("web console: wrong password from 127.0.0.1") for m in messages)
    assert any(m.startswith("web console: new session for 127.0.0.1") for m in messages)
