"""The relay's bounded store-and-forward buffer: the oldest dropped first, every drop counted."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable

# A report as the relay keeps it: the node's name and the report's bytes as its agent sent them.
Item = tuple[str, bytes]


class Buffer:
    """Reports waiting for the hub. Owned by the relay's event loop (not thread-safe)."""

    def __init__(self, capacity: int, on_drop: Callable[[int], None] = lambda _n: None) -> None:
        if capacity < 1:
            raise ValueError(f"the buffer must hold at least one report, got {capacity}")
        self.capacity = capacity
        self.dropped = 0
        self.on_drop = on_drop
        self._items: deque[Item] = deque()
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: Item) -> None:
        self._items.append(item)
        self._trim()
        self._ready.set()

    def requeue(self, items: Iterable[Item]) -> None:
        """Puts reports the hub never acknowledged back in front, in their order."""
        self._items.extendleft(reversed(list(items)))
        self._trim()
        if self._items:
            self._ready.set()

    def take(self, limit: int, max_bytes: int = 1 << 62) -> list[Item]:
        """Up to `limit` reports, oldest first, of at most `max_bytes` together (but at least
        one report when any is waiting)."""
        out: list[Item] = []
        size = 0
        items = self._items
        while items and len(out) < limit:
            size += len(items[0][1])
            if out and size > max_bytes:
                break
            out.append(items.popleft())
        if not items:
            self._ready.clear()
        return out

    async def wait(self) -> None:
        """Returns once at least one report is waiting."""
        await self._ready.wait()

    def _trim(self) -> None:
        over = len(self._items) - self.capacity
        if over <= 0:
            return
        for _ in range(over):
            self._items.popleft()
        self.dropped += over
        self.on_drop(over)
