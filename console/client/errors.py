"""The client's one error type: a call to the hub failed, with the status and the hub's words."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import grpc

P = ParamSpec("P")
T = TypeVar("T")


class HubError(grpc.aio.AioRpcError):
    """A call the hub refused or could not answer. `code()` and `details()` as gRPC gives
    them (so callers that catch gRPC's error still do); `message` says it for a person."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details)

    @classmethod
    def of(cls, err: BaseException) -> HubError:
        if isinstance(err, HubError):
            return err
        if isinstance(err, grpc.aio.AioRpcError):
            return cls(err.code(), err.details() or "")
        return cls(grpc.StatusCode.UNAVAILABLE, f"cannot reach the hub: {err}")

    @property
    def message(self) -> str:
        return self.details() or self.code().name

    @property
    def denied(self) -> bool:
        """The caller's role or scope does not allow the call."""
        return self.code() == grpc.StatusCode.PERMISSION_DENIED

    @property
    def unserved(self) -> bool:
        """The hub has no such call (an older hub)."""
        return self.code() == grpc.StatusCode.UNIMPLEMENTED


def answers(call: Callable[P, Awaitable[T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """A client method whose gRPC and socket errors come out as HubError."""

    @functools.wraps(call)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await call(*args, **kwargs)
        except (grpc.aio.AioRpcError, OSError) as err:
            raise HubError.of(err) from err

    return wrapped


def streams(call: Callable[P, AsyncIterator[T]]) -> Callable[P, AsyncIterator[T]]:
    """A client method streaming answers, whose gRPC and socket errors come out as HubError."""

    @functools.wraps(call)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
        try:
            async for item in call(*args, **kwargs):
                yield item
        except (grpc.aio.AioRpcError, OSError) as err:
            raise HubError.of(err) from err

    return wrapped
