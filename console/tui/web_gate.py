"""The web console's gate: HTTP basic authentication against one password, then a session
cookie, so the page, its static files and its WebSocket all need the password.

Browsers ask for the password themselves (the `WWW-Authenticate` challenge); a page
opened with the right password gets a random session cookie (HttpOnly, SameSite=Strict,
Secure over HTTPS), which its WebSocket then carries. A WebSocket opened from another
site's page is refused whatever it carries. Sessions live as long as the server;
the newest `MAX_SESSIONS` are kept.

Guessing is slowed per client address: each wrong password spends one of `GUESSES` tries,
which come back at `GUESS_RATE` a second; with none left, every password from that address,
the right one too, is answered 429 with a Retry-After until a try is back. Wrong passwords
and new sessions are logged with the client's address (the console's log).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from tongchou.ratelimit import TokenBucket

COOKIE = "tongchou_session"
REALM = "Tongchou console"
MAX_SESSIONS = 1000
GUESSES = 10
"""Wrong passwords an address may send in a burst."""
GUESS_RATE = 1 / 6
"""Tries given back a second (ten a minute)."""
MAX_ADDRESSES = 10_000
"""Addresses whose tries are remembered (the oldest forgotten first)."""

log = logging.getLogger(__name__)

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

    def __init__(
        self, password: str, *, secure: bool, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._password = password.encode("utf-8")
        self._secure = secure
        self._sessions: dict[str, None] = {}  # in the order given
        self._tries: dict[str, TokenBucket] = {}  # per client address, the oldest first
        self._clock = clock

    def _bucket(self, address: str) -> TokenBucket:
        bucket = self._tries.pop(address, None) or TokenBucket(GUESS_RATE, GUESSES)
        self._tries[address] = bucket  # the newest last
        if len(self._tries) > MAX_ADDRESSES:
            del self._tries[next(iter(self._tries))]
        return bucket

    def _throttled(self, address: str) -> float:
        """Seconds until `address` may try a password again (0 when it may now)."""
        bucket = self._tries.get(address)
        return 0.0 if bucket is None else bucket.due(self._clock())

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
        address = request.remote or "?"
        tried = "Authorization" in request.headers
        if tried and (wait := self._throttled(address)) > 0:
            return web.Response(
                status=429,
                text="429: too many wrong passwords from this address; try again later "
                "(密码错误次数过多，请稍后再试)\n",
                headers={"Retry-After": str(math.ceil(wait))},
            )
        if not self._basic_ok(request):
            if tried:
                self._bucket(address).take(self._clock())
                log.warning("web console: wrong password from %s", address)
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
            log.info("web console: new session for %s", address)
        return response
