"""Small helpers the hub's gRPC services share when answering."""

from __future__ import annotations

from typing import Any, TypeVar

import grpc

T = TypeVar("T")


async def found(value: T | None, context: grpc.aio.ServicerContext[Any, Any], missing: str) -> T:
    """`value`, or the call ends NOT_FOUND saying what is `missing`."""
    if value is None:
        await context.abort(grpc.StatusCode.NOT_FOUND, missing)
        raise AssertionError("abort returns only by raising")
    return value
