"""The relay's AgentService: its nodes' streams checked and answered, their reports buffered."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, NoReturn

import grpc
from google.protobuf.message import DecodeError

from console.relay.buffer import Buffer
from console.relay.metrics import RelayMetrics
from console.security.binding import NodeBinding
from tongchou.v1 import agent_pb2

log = logging.getLogger("tongchou.relay.agents")

MAX_REPORT_BYTES = 64 * 1024  # as the hub's limit


@dataclass(slots=True)
class Verdicts:
    """What the hub said last: the interval it wants, the nodes it refused, whether it drains."""

    interval: float
    refused: dict[str, tuple[grpc.StatusCode, str]] = field(default_factory=dict)

    def ack_tail(self) -> bytes:
        ack = agent_pb2.ReportAck(accepted=True)
        ack.report_interval.FromNanoseconds(round(self.interval * 1e9))
        return ack.SerializeToString()


class _Refused(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class AgentStreams:
    """Takes each node's stream as the hub would, and answers each report once it is buffered."""

    def __init__(
        self,
        buffer: Buffer,
        verdicts: Verdicts,
        metrics: RelayMetrics,
        binding: NodeBinding | None,
    ) -> None:
        self.buffer = buffer
        self.verdicts = verdicts
        self.metrics = metrics
        self.binding = binding  # None on plaintext (--insecure)
        self.draining = False

    def handler(self) -> grpc.GenericRpcHandler:
        method: grpc.RpcMethodHandler[Any, Any] = grpc.stream_stream_rpc_method_handler(
            self.connect
        )
        return grpc.method_handlers_generic_handler("tongchou.v1.AgentService", {"Connect": method})

    async def connect(
        self, requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext[bytes, bytes]
    ) -> AsyncIterator[bytes]:
        first: agent_pb2.NodeReport | None = None
        self.metrics.streams.inc()
        try:
            async for raw in requests:
                report = self._admit(raw, first, context)
                name = report.identity.node
                if first is None:
                    first = report
                    self.verdicts.refused.pop(name, None)  # a new stream is judged afresh
                elif name in self.verdicts.refused:
                    code, message = self.verdicts.refused.pop(name)
                    raise _Refused(code, f"the hub refused node {name}: {message}")
                self.buffer.put((name, raw))
                self.metrics.received.inc()
                head = agent_pb2.ReportAck(sequence=report.sequence, commands=self._commands())
                yield head.SerializeToString() + self.verdicts.ack_tail()
        except _Refused as refused:
            await context.abort(refused.code, refused.message)
        finally:
            self.metrics.streams.dec()

    def _admit(
        self, raw: bytes, first: agent_pb2.NodeReport | None, context: Any
    ) -> agent_pb2.NodeReport:
        """The report parsed; on a stream's first, the caller's certificate checked too. The
        hub checks the rest (it has the fleet documents and every node's history)."""
        if len(raw) > MAX_REPORT_BYTES:
            self._refuse(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"report of {len(raw)} bytes exceeds {MAX_REPORT_BYTES}",
                context,
            )
        try:
            report = agent_pb2.NodeReport.FromString(raw)
        except DecodeError:
            self._refuse(
                grpc.StatusCode.INVALID_ARGUMENT, "report is not a valid NodeReport", context
            )
        if not report.identity.node:
            self._refuse(grpc.StatusCode.INVALID_ARGUMENT, "identity.node is empty", context)
        if first is None:
            if self.binding is not None:
                denial = self.binding.check(context, report.identity.node)
                if denial is not None:
                    self._refuse(grpc.StatusCode.PERMISSION_DENIED, denial.message, context)
        elif report.identity.node != first.identity.node:
            self._refuse(
                grpc.StatusCode.INVALID_ARGUMENT, "identity.node changed mid-stream", context
            )
        return report

    def _refuse(self, code: grpc.StatusCode, message: str, context: Any) -> NoReturn:
        self.metrics.rejected.inc()
        log.warning("refused stream from %s: %s", context.peer(), message)
        raise _Refused(code, message)

    def _commands(self) -> list[agent_pb2.Command]:
        if not self.draining:
            return []
        reconnect = agent_pb2.Command(kind=agent_pb2.Command.KIND_RECONNECT)
        reconnect.delay.FromSeconds(5)
        return [reconnect]
