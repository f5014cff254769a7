"""What the fleet's streams answer, as plain values; `api/messages.py` turns them into bytes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import grpc

RECONNECT_DELAY = 5.0
"""Seconds a draining hub asks agents and relays to wait before they connect again."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """One relayed report the hub did not take: whose, the status code, and why."""

    node: str
    code: grpc.StatusCode
    message: str


class Acks(Protocol):
    """Builds the serialized answers of AgentService.Connect and RelayService.Forward."""

    def report(self, sequence: int, interval: float, *, draining: bool) -> bytes:
        """The answer to one agent report: its sequence, the interval wanted, a reconnect
        command while the hub drains."""
        ...

    def relay(
        self,
        batch: int,
        accepted: int,
        refusals: Sequence[Refusal],
        interval: float,
        *,
        draining: bool,
    ) -> bytes:
        """The answer to one relay batch: what was taken, each refusal, the interval wanted."""
        ...
