"""Documents sent to the hub's API, read off the event loop within size, value and time
bounds, once per call: the scope hooks and the handlers share the one typed result."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
from collections.abc import Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import grpc

from console.documents import Document, LoadError, load_text

log = logging.getLogger("tongchou.hub.intake")

PARSE_SECONDS = 10.0
"""How long a caller waits for its documents to be read before it is told to send less."""

PARSERS = 2
"""Documents read at the same time; more callers wait their turn (the flusher and the
event loop keep the rest of the machine)."""


class InputRefused(Exception):
    """Documents that cannot be taken: `code` is the gRPC status, `message` says why."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class _Read:
    text: str
    known: Mapping[str, Collection[str]] | None
    documents: list[Document] | None
    error: InputRefused | None


# The documents of the call being handled, read once by whichever needs them first (the
# scope hook of a scoped caller, else the handler): both run in the call's task. A read
# against other names (`known`) is a read of its own.
_CURRENT: contextvars.ContextVar[_Read | None] = contextvars.ContextVar(
    "tongchou_intake", default=None
)


class Intake:
    """Reads API documents on its own threads, at most PARSERS at a time."""

    def __init__(self, parsers: int = PARSERS, seconds: float = PARSE_SECONDS) -> None:
        self.seconds = seconds
        self.parsers = parsers
        self._pool = ThreadPoolExecutor(max_workers=parsers, thread_name_prefix="tongchou-parse")
        self._slots: asyncio.Semaphore | None = None
        self.timeouts = 0

    async def read(
        self,
        text: str,
        origin: str,
        *,
        max_bytes: int,
        known: Mapping[str, Collection[str]] | None = None,
    ) -> list[Document]:
        """The validated documents of `text`; InputRefused (INVALID_ARGUMENT) says what is
        wrong and where, or that reading took longer than the time bound."""
        current = _CURRENT.get()
        if current is not None and current.text is text and current.known == known:
            if current.error is not None:
                raise current.error
            assert current.documents is not None
            return current.documents
        try:
            documents = await self._read(text, origin, max_bytes, known)
        except InputRefused as err:
            _CURRENT.set(_Read(text, known, None, err))
            raise
        _CURRENT.set(_Read(text, known, documents, None))
        return documents

    def answer(
        self, text: str, known: Mapping[str, Collection[str]] | None, error: InputRefused
    ) -> None:
        """The call's later read of `text` against `known` answers `error` instead."""
        _CURRENT.set(_Read(text, known, None, error))

    async def _read(
        self,
        text: str,
        origin: str,
        max_bytes: int,
        known: Mapping[str, Collection[str]] | None,
    ) -> list[Document]:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > max_bytes:
            raise InputRefused(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{origin}: {size:,} bytes; at most {max_bytes:,} are taken",
            )
        try:
            return await asyncio.wait_for(self._parse(text, origin, known), self.seconds)
        except TimeoutError:
            self.timeouts += 1
            log.warning("reading %s took longer than %.0f s", origin, self.seconds)
            raise InputRefused(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{origin}: reading took longer than {self.seconds:g} s; "
                "send fewer or smaller documents",
            ) from None
        except LoadError as err:
            raise InputRefused(grpc.StatusCode.INVALID_ARGUMENT, str(err)) from None

    async def _parse(
        self, text: str, origin: str, known: Mapping[str, Collection[str]] | None
    ) -> list[Document]:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.parsers)
        slots = self._slots
        await slots.acquire()
        loop = asyncio.get_running_loop()

        def release(_done: Future[list[Document]]) -> None:
            # The slot is held until the thread is done, even when the caller has stopped
            # waiting: PARSERS is a cap on the CPU that reading takes.
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(slots.release)

        try:
            future = self._pool.submit(functools.partial(load_text, text, origin, known=known))
        except BaseException:
            slots.release()
            raise
        future.add_done_callback(release)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
