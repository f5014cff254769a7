"""How the agent speaks `tongchou.v1` to the hub: pure Python over `h2`, or grpcio, one interface.

Both send the same protobuf messages as gRPC over HTTP/2 with mutual TLS, so the hub cannot tell
them apart. ``load("auto")`` takes the pure-Python one when `h2` imports (it installs on every
CPU and holds a fraction of grpcio's memory) and grpcio otherwise; ``transport: h2`` or
``grpcio`` in the settings forces one.
"""

from __future__ import annotations

import importlib
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from tongchou.v1 import agent_pb2, security_pb2

__all__ = [
    "CHOICES",
    "Credentials",
    "ReportStream",
    "RpcError",
    "Transport",
    "TransportUnavailable",
    "load",
]

# Settings value -> module under agent.transport; "auto" tries them in this order.
_MODULES = {"h2": "via_h2", "grpcio": "via_grpcio"}
CHOICES = ("auto", *_MODULES)
CONNECT = "/tongchou.v1.AgentService/Connect"
JOIN = "/tongchou.v1.JoinService/Join"
RENEW = "/tongchou.v1.JoinService/Renew"


class RpcError(Exception):
    """A call that failed: `code` is the gRPC status name (UNAVAILABLE, PERMISSION_DENIED…)."""

    def __init__(self, code: str, details: str) -> None:
        super().__init__(f"{code}: {details}")
        self.code = code
        self.details = details


class TransportUnavailable(RuntimeError):
    """No gRPC library the agent can use is installed."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """PEM material for TLS: the CA that signed the hub, and this node's pair (mutual TLS)."""

    ca: bytes
    cert: bytes = b""
    key: bytes = b""


class ReportStream(Protocol):
    """The agent's side of `AgentService/Connect`."""

    async def write(self, report: agent_pb2.NodeReport) -> None: ...

    async def read(self) -> agent_pb2.ReportAck | None:
        """The next ack, or None when the hub ended the stream with OK."""
        ...


class Transport(Protocol):
    name: str

    def connect(
        self, target: str, credentials: Credentials | None
    ) -> AbstractAsyncContextManager[ReportStream]:
        """Opens the report stream (plaintext when `credentials` is None); closes it on exit."""
        ...

    async def join(
        self, target: str, ca: bytes, request: security_pb2.JoinRequest, timeout: float
    ) -> security_pb2.JoinResponse:
        """`JoinService/Join` over TLS that checks the hub (the node has no certificate yet)."""
        ...

    async def renew(
        self,
        target: str,
        credentials: Credentials,
        request: security_pb2.RenewRequest,
        timeout: float,
    ) -> security_pb2.JoinResponse:
        """`JoinService/Renew` over mutual TLS with the node's current certificate."""
        ...


def load(name: str = "auto") -> Transport:
    """The transport `name` ("auto", "h2" or "grpcio"); raises TransportUnavailable."""
    names = list(_MODULES) if name == "auto" else [name]
    missing = []
    for each in names:
        try:
            module = importlib.import_module(f"agent.transport.{_MODULES[each]}")
        except ImportError as err:
            missing.append(f"{each} ({err})")
            continue
        transport: Transport = module.TRANSPORT
        return transport
    raise TransportUnavailable(
        "no gRPC transport can be loaded: "
        + "; ".join(missing)
        + " (pip install h2, or grpcio where a wheel exists)"
    )
