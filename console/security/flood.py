"""Refusals that anyone can cause, at bounded cost: the first refusal of a peer in a minute is
recorded at once, the rest of that minute as one record with their count."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from console.store.audit import AuditEntry

# Outcomes an unauthenticated or misbehaving caller can produce at will.
AGGREGATED = frozenset({"unauthenticated", "rate-limited", "rejected", "invalid", "refused"})
OTHER_PEERS = "other peers"


def peer_host(peer: str) -> str:
    """The address of a gRPC peer string without its port ('ipv4:10.0.0.7:5123' → '10.0.0.7')."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv6":
        return rest.rpartition("]")[0].lstrip("[") or rest
    if kind == "ipv4":
        return rest.rpartition(":")[0] or rest
    return peer or "unknown"


@dataclass(slots=True)
class _Slot:
    minute: int
    first: AuditEntry
    more: int = 0


class RefusalAggregator:
    """Wraps an audit sink. Entries with an outcome in AGGREGATED, or from an anonymous caller,
    are counted per (peer, action, outcome) and minute: at most two records each. At most
    `max_peers` peers are tracked at once; beyond that, peers share one count."""

    def __init__(
        self,
        sink: Callable[[AuditEntry], None],
        *,
        window: float = 60.0,
        max_peers: int = 1024,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sink = sink
        self.window = window
        self.max_peers = max_peers
        self.clock = clock
        self._slots: dict[tuple[str, str, str], _Slot] = {}
        self._lock = threading.Lock()

    @staticmethod
    def aggregates(entry: AuditEntry) -> bool:
        return entry.outcome in AGGREGATED or entry.actor == "anonymous"

    def __call__(self, entry: AuditEntry) -> None:
        if not self.aggregates(entry):
            self.sink(entry)
            return
        who = peer_host(entry.peer) if entry.peer else entry.actor
        minute = int(self.clock() // self.window)
        key = (who, entry.action, entry.outcome)
        out: list[AuditEntry] = []
        with self._lock:
            slot = self._slots.get(key)
            if slot is None and len(self._slots) >= self.max_peers:
                key = (OTHER_PEERS, entry.action, entry.outcome)
                slot = self._slots.get(key)
            if slot is not None and slot.minute == minute:
                slot.more += 1
            else:
                if slot is not None:
                    out.append(self._summary(key, slot))
                self._slots[key] = _Slot(minute, entry)
                detail = f"{entry.detail}; peer {key[0]}" if entry.peer else entry.detail
                out.append(replace(entry, detail=detail))
        for item in out:
            self.sink(item)

    def flush(self, *, everything: bool = False) -> None:
        """Records the counts of minutes that have ended (all of them with `everything`)."""
        minute = int(self.clock() // self.window)
        out: list[AuditEntry] = []
        with self._lock:
            for key, slot in list(self._slots.items()):
                if everything or slot.minute < minute:
                    del self._slots[key]
                    if slot.more:
                        out.append(self._summary(key, slot))
        for item in out:
            self.sink(item)

    def _summary(self, key: tuple[str, str, str], slot: _Slot) -> AuditEntry:
        start = dt.datetime.fromtimestamp(slot.minute * self.window, dt.UTC)
        return replace(
            slot.first,
            detail=f"{slot.more} more like this from {key[0]} in the {self.window:.0f} s from "
            f"{start.isoformat(timespec='seconds')}",
            digest="",
        )
