"""`tongchou console --web`: the same console served to browsers (textual-serve), behind a
password, over HTTP or HTTPS.

Every browser tab that connects starts its own `tongchou console` process with the flags
this one was given (the same hub, the same certificates or token, the same `--read-only`),
and textual-serve relays its screen and keys over a WebSocket. The page and the WebSocket
both sit behind the gate in `console.tui.web_gate`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import os
import re
import shlex
import signal
import socket
import ssl
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server

from console.tui.web_flags import DEFAULT_LISTEN
from console.tui.web_gate import Gate, read_password


@dataclass(frozen=True, slots=True)
class WebConfig:
    host: str
    port: int
    password: str
    tls: ssl.SSLContext | None
    public_url: str

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> WebConfig:
        """The web flags checked; ValueError says which one is wrong and why."""
        host, _, port_text = str(args.web_listen).rpartition(":")
        if not host or not port_text.isdigit() or int(port_text) > 65535:
            raise ValueError(
                f"--web-listen {args.web_listen!r}: give HOST:PORT, e.g. {DEFAULT_LISTEN}"
            )
        if args.web_password_file is None:
            raise ValueError(
                "--web needs --web-password-file: a file whose first line is the password "
                "browsers must give"
            )
        password = read_password(args.web_password_file)
        if (args.web_tls_cert is None) != (args.web_tls_key is None):
            raise ValueError("HTTPS needs both --web-tls-cert and --web-tls-key")
        tls = None
        if args.web_tls_cert is not None:
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            try:
                tls.load_cert_chain(args.web_tls_cert, args.web_tls_key)
            except (OSError, ssl.SSLError) as err:
                raise ValueError(
                    f"--web-tls-cert {args.web_tls_cert} / --web-tls-key {args.web_tls_key}: "
                    f"{getattr(err, 'strerror', None) or err}"
                ) from err
        return cls(host.strip("[]"), int(port_text), password, tls, args.web_public_url)


def console_command(args: argparse.Namespace) -> str:
    """The command line of the console each browser tab runs: this one's flags, without the
    web server's. A bearer token goes through the environment, never the command line."""
    argv = [sys.executable, "-m", "tongchou", "console", "--hub", args.hub, "--lang", args.lang]
    argv += ["--export-dir", str(Path(args.export_dir).absolute())]
    argv += ["--log-file", str(Path(args.log_file).absolute())]
    for flag, value in (
        ("--tls-ca", args.tls_ca),
        ("--tls-cert", args.tls_cert),
        ("--tls-key", args.tls_key),
        ("--prometheus-ca", args.prometheus_ca),
        ("--prometheus-cert", args.prometheus_cert),
        ("--prometheus-key", args.prometheus_key),
        ("--prometheus-token-file", args.prometheus_token_file),
    ):
        if value is not None:
            argv += [flag, str(Path(value).absolute())]
    if args.prometheus:
        argv += ["--prometheus", args.prometheus]
    if args.insecure:
        argv.append("--insecure")
    if args.read_only:
        argv.append("--read-only")
    if getattr(args, "national", False):  # a national hub's wall screen
        argv.append("--national")
    return shlex.join(argv)


class GatedServer(Server):
    """textual-serve's server with the password gate in front of every route."""

    def __init__(self, command: str, config: WebConfig, public_url: str) -> None:
        super().__init__(command, host=config.host, port=config.port, public_url=public_url)
        self.title = "Tongchou 统筹"
        self.gate = Gate(config.password, secure=config.tls is not None)

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.gate.middleware)
        env = aiohttp_jinja2.get_env(app)
        env.loader = jinja2.FunctionLoader(partial(_offline_template, self.templates_path))
        return app

    async def on_startup(self, app: web.Application) -> None:
        """textual-serve prints a banner here; the URL is printed once the socket is open."""


_OUTSIDE = re.compile(r"<link[^>]*href=\"https?://[^\"]*\"[^>]*/?>", re.DOTALL)


def _offline_template(folder: Path, name: str) -> str:
    """textual-serve's page without what it loads from the Internet (a web font): a
    government network often has no way out, and the page must not wait for one."""
    return _OUTSIDE.sub("", (folder / name).read_text(encoding="utf-8"))


def _bind(config: WebConfig) -> socket.socket:
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((config.host, config.port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve(command: str, config: WebConfig, stop: asyncio.Event) -> None:
    """Serves until `stop` is set; prints the URL (with the port chosen) when listening."""
    sock = _bind(config)
    port = sock.getsockname()[1]
    scheme = "https" if config.tls else "http"
    host = f"[{config.host}]" if ":" in config.host else config.host
    public_url = (config.public_url or f"{scheme}://{host}:{port}").rstrip("/")
    server = GatedServer(command, config, public_url)
    runner = web.AppRunner(await server._make_app(), handle_signals=False)
    await runner.setup()
    try:
        await web.SockSite(runner, sock, ssl_context=config.tls).start()
        print(f"tongchou console: serving the console at {public_url}/", flush=True)
        await stop.wait()
    finally:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(runner.cleanup(), timeout=10)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: not known to stay on this machine
        return False


def run_web(args: argparse.Namespace) -> int:
    """`tongchou console --web`: 2 on bad flags, 0 after SIGINT or SIGTERM."""
    try:
        config = WebConfig.from_args(args)
    except ValueError as err:
        print(f"tongchou console: {err}", file=sys.stderr)
        return 2
    if config.tls is None and not _loopback(config.host):
        print(
            f"tongchou console: WARNING: --web-listen {args.web_listen} without --web-tls-cert: "
            "the password and the console cross the network in clear text",
            file=sys.stderr,
        )
    if args.token:  # the consoles it starts inherit the environment, not a visible flag
        os.environ["TONGCHOU_TOKEN"] = args.token

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(console_command(args), config, stop)

    try:
        asyncio.run(main())
    except OSError as err:  # the address is taken or not this machine's
        print(f"tongchou console: --web-listen {args.web_listen}: {err.strerror}", file=sys.stderr)
        return 2
    return 0
