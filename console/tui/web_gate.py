"""The web console's gate: HTTP basic authentication against one password, then a session
cookie, so the page, its static files and its WebSocket all need the password.

Browsers ask for the password themselves (the `WWW-Authenticate` challenge); a page
opened with the right password gets a random session cookie (HttpOnly, SameSite=Strict,
Secure over HTTPS), which its WebSocket then carries. A WebSocket opened from another
site's page is refused whatever it carries. Sessions live as long as the server;
the newest `MAX_SESSIONS` are kept.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

COOKIE = "tongchou_session"
REALM = "Tongchou console"
MAX_SESSIONS = 1000

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def read_password(path: Path) -> str:
    """The first line of `path`; ValueError when it cannot be read or is empty."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(
            f"--web-password-file {path}: {getattr(err, 'strerror', None) or err}"
        ) from err
    password = lines[0].strip() if lines else ""
    if not password:
        raise ValueError(f"--web-password-file {path}: the first line (the password) is empty")
    return password


def same_origin(request: web.Request) -> bool:
    """False for a WebSocket opened by a page of another site (its Origin names another
    host): a browser would send that site's request the password it has cached for this
    one, so the origin is checked as well as the password."""
    if request.headers.get("Upgrade", "").lower() != "websocket":
        return True
    origin = request.headers.get("Origin", "")
    if not origin:  # not a browser: nothing ambient to borrow
        return True
    return urlsplit(origin).netloc.lower() == request.host.lower()


class Gate:
    """Lets a request through when it carries the password or a session it was given."""

    def __init__(self, password: str, *, secure: bool) -> None:
        self._password = password.encode("utf-8")
        self._secure = secure
        self._sessions: dict[str, None] = {}  # in the order given

    def _basic_ok(self, request: web.Request) -> bool:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        _user, _, given = decoded.partition(b":")
        return hmac.compare_digest(given, self._password)

    def _session_ok(self, request: web.Request) -> bool:
        session = request.cookies.get(COOKIE, "")
        return any(hmac.compare_digest(session, known) for known in self._sessions)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not same_origin(request):
            return web.Response(
                status=403, text="403: a WebSocket from another site's page is refused\n"
            )
        if self._session_ok(request):
            return await handler(request)
        if not self._basic_ok(request):
            return web.Response(
                status=401,
                text="401: the Tongchou console needs its password (需要密码)\n",
                headers={"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'},
            )
        response = await handler(request)
        if not response.prepared:  # a WebSocket is already under way: it needs no cookie
            session = secrets.token_urlsafe(32)
            self._sessions[session] = None
            if len(self._sessions) > MAX_SESSIONS:
                del self._sessions[next(iter(self._sessions))]
            response.set_cookie(
                COOKIE, session, httponly=True, samesite="Strict", secure=self._secure, path="/"
            )
        return response
