"""A servicer method whose store fails or freezes answers UNAVAILABLE, saying so, instead of
UNKNOWN or an endless wait (the store is read and written through `console.store.offloop`)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from console.store.offloop import StoreUnavailable

_R = TypeVar("_R")
Rpc = Callable[[Any, Any, Any], Awaitable[_R]]


NOTHING_CHANGED = "nothing was changed: try again when the store has room"


def answers_unavailable(
    what: str, unconfirmed: str, failed: str = NOTHING_CHANGED
) -> Callable[[Rpc[_R]], Rpc[_R]]:
    """Wraps a unary servicer method: StoreUnavailable ends the call UNAVAILABLE naming
    `what` is unavailable, then `failed` for a store that refused (what the caller should
    do), or `unconfirmed` for one that did not answer in time (about a change that may
    still land)."""

    def wrap(method: Rpc[_R]) -> Rpc[_R]:
        @functools.wraps(method)
        async def rpc(self: Any, request: Any, context: Any) -> _R:
            try:
                return await method(self, request, context)
            except StoreUnavailable as err:
                outcome = unconfirmed if err.timed_out else failed
                message = f"{what} is unavailable: {err}; {outcome}"
                await context.abort(grpc.StatusCode.UNAVAILABLE, message)
                raise  # not reached: abort raises

        return rpc

    return wrap
