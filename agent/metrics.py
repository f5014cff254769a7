"""The agent's own Prometheus metrics: its node's capacity and usage, and its reporting health.

A few counters and gauges and one exposition page do not need the full client library (which
costs the agent about 4 MiB of its resident memory): this module keeps the values, writes the
text exposition format 0.0.4, and serves it from the agent's own event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from agent.hostinfo import chip_family
from tongchou import __version__, levels
from tongchou.v1 import agent_pb2

log = logging.getLogger("tongchou.agent")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_NODE_LABELS = ("node", "cluster", "site", "division", "level")
_REQUEST_TIMEOUT = 10.0
_MAX_REQUEST = 8192


@dataclass(slots=True)
class Family:
    """One metric: name (a counter's ends in _total), type, help, and its samples."""

    name: str
    kind: str  # "counter" or "gauge"
    doc: str
    labels: tuple[str, ...] = ()
    samples: list[tuple[tuple[str, ...], float]] = field(default_factory=list)

    def add(self, values: Sequence[str], value: float) -> None:
        self.samples.append((tuple(values), float(value)))


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _label_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(families: Iterable[Family]) -> bytes:
    """The text exposition format (version 0.0.4) of `families`."""
    lines: list[str] = []
    for family in families:
        doc = family.doc.replace("\\", "\\\\").replace("\n", "\\n")
        lines.append(f"# HELP {family.name} {doc}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for values, value in family.samples:
            if family.labels:
                pairs = ",".join(
                    f'{k}="{_label_value(v)}"' for k, v in zip(family.labels, values, strict=True)
                )
                lines.append(f"{family.name}{{{pairs}}} {_number(value)}")
            else:
                lines.append(f"{family.name} {_number(value)}")
    return ("\n".join(lines) + "\n").encode()


class _Metric:
    """A counter or gauge with fixed label names; values per label tuple."""

    def __init__(self, name: str, kind: str, doc: str, labels: Sequence[str] = ()) -> None:
        self.family_name = name + "_total" if kind == "counter" else name
        self.kind = kind
        self.doc = doc
        self.label_names = tuple(labels)
        self._values: dict[tuple[str, ...], float] = {} if labels else {(): 0.0}

    def labels(self, *values: str) -> _Child:
        if len(values) != len(self.label_names):
            raise ValueError(f"{self.family_name} takes labels {self.label_names}")
        self._values.setdefault(values, 0.0)
        return _Child(self, values)

    def family(self) -> Family:
        family = Family(self.family_name, self.kind, self.doc, self.label_names)
        for values, value in self._values.items():
            family.add(values, value)
        return family

    # the unlabelled metric's value
    @property
    def value(self) -> float:
        return self._values[()]

    def inc(self, amount: float = 1.0) -> None:
        self._values[()] += amount

    def set(self, value: float) -> None:
        self._values[()] = float(value)


class _Child:
    def __init__(self, metric: _Metric, values: tuple[str, ...]) -> None:
        self._metric, self._key = metric, values

    @property
    def value(self) -> float:
        return self._metric._values[self._key]

    def inc(self, amount: float = 1.0) -> None:
        self._metric._values[self._key] += amount

    def set(self, value: float) -> None:
        self._metric._values[self._key] = float(value)


class NodeCollector:
    """Exposes the newest report as node gauges; `latest` gives it (None before the first)."""

    def __init__(self, latest: Callable[[], agent_pb2.NodeReport | None]) -> None:
        self._latest = latest

    def collect(self) -> Iterator[Family]:
        report = self._latest()
        if report is None:
            return
        ident = report.identity
        level = levels.name(ident.level)
        values = [ident.node, ident.cluster, ident.site, ident.division, level]
        cap, use = report.capacity, report.usage

        def gauge(name: str, doc: str, value: float) -> Family:
            family = Family(name, "gauge", doc, _NODE_LABELS)
            family.add(values, value)
            return family

        yield gauge("tongchou_node_cpu_cores", "Logical CPUs of the node.", cap.cpu_logical)
        yield gauge(
            "tongchou_node_cpu_utilization_ratio", "Share of the node's CPU busy.", use.cpu_ratio
        )
        yield gauge("tongchou_node_load1", "One-minute load average.", use.load1)
        yield gauge("tongchou_node_memory_bytes", "Memory of the node.", cap.memory_bytes)
        yield gauge("tongchou_node_memory_used_bytes", "Memory in use.", use.memory_used_bytes)
        yield gauge(
            "tongchou_node_boot_time_seconds",
            "Boot time of the node, in seconds since the epoch.",
            report.boot_time.seconds,
        )
        disk_labels = (*_NODE_LABELS, "mount")
        total = Family("tongchou_node_disk_bytes", "gauge", "Size of a disk mount.", disk_labels)
        used = Family(
            "tongchou_node_disk_used_bytes", "gauge", "Space used on a disk mount.", disk_labels
        )
        for disk in cap.disks:
            total.add([*values, disk.mount], disk.total_bytes)
        for disk_use in use.disks:
            used.add([*values, disk_use.mount], disk_use.used_bytes)
        yield total
        yield used
        nic_labels = (*_NODE_LABELS, "interface")
        recv = Family(
            "tongchou_node_network_receive_bytes_total", "counter", "Bytes received.", nic_labels
        )
        sent = Family(
            "tongchou_node_network_transmit_bytes_total", "counter", "Bytes sent.", nic_labels
        )
        for nic in use.nets:
            recv.add([*values, nic.name], nic.bytes_recv)
            sent.add([*values, nic.name], nic.bytes_sent)
        yield recv
        yield sent
        info = Family(
            "tongchou_node_info",
            "gauge",
            "Always 1; labels say what the node is: arch, chip, chip family (信创: kunpeng, "
            "phytium, hygon, zhaoxin, loongson, sunway) and OS family.",
            (*_NODE_LABELS, "arch", "chip", "chip_family", "os_family"),
        )
        family = chip_family(ident.chip)
        info.add([*values, ident.arch, ident.chip, family, ident.os.family], 1)
        yield info
        accel_labels = (*_NODE_LABELS, "model")
        accels = Family(
            "tongchou_node_accelerators",
            "gauge",
            "Accelerators (GPUs, NPUs) of the node, by model.",
            accel_labels,
        )
        counts: dict[str, int] = {}
        for gpu in cap.gpus:
            counts[gpu.model] = counts.get(gpu.model, 0) + 1
        for model, count in sorted(counts.items()):
            accels.add([*values, model], count)
        yield accels


class AgentMetrics:
    """Counters and gauges of the agent's reporting, and what /metrics shows."""

    def __init__(self) -> None:
        self.reports = _Metric(
            "tongchou_agent_reports",
            "counter",
            "Reports sent to the hub, by result (accepted, rejected, failed).",
            ["result"],
        )
        for result in ("accepted", "rejected", "failed"):
            self.reports.labels(result)
        self.reconnects = _Metric(
            "tongchou_agent_reconnects", "counter", "Times the agent connected again."
        )
        self.renewals = _Metric(
            "tongchou_agent_certificate_renewals",
            "counter",
            "Times the node renewed its certificate.",
        )
        self.connected = _Metric(
            "tongchou_agent_connected", "gauge", "1 while the stream to the hub is up."
        )
        self.interval = _Metric(
            "tongchou_agent_report_interval_seconds",
            "gauge",
            "The report interval in force (the hub may change it).",
        )
        self.build_info = _Metric(
            "tongchou_agent_build_info",
            "gauge",
            "Always 1; labels name the agent's version and its gRPC transport.",
            ["version", "transport"],
        )
        self._metrics = [
            self.reports,
            self.reconnects,
            self.renewals,
            self.connected,
            self.interval,
            self.build_info,
        ]
        self._collectors: list[Callable[[], Iterable[Family]]] = []
        self._server: asyncio.Server | None = None

    def set_transport(self, name: str) -> None:
        self.build_info.labels(__version__, name).set(1)

    def register(self, collector: NodeCollector) -> None:
        self._collectors.append(collector.collect)

    def families(self) -> Iterator[Family]:
        for metric in self._metrics:
            yield metric.family()
        for collect in self._collectors:
            yield from collect()

    def render(self) -> bytes:
        return render(self.families())

    async def serve(self, listen: str) -> int:
        """Serves /metrics over HTTP on host:port from the running loop; returns the port."""
        host, _, port = listen.rpartition(":")
        self._server = await asyncio.start_server(
            self._handle, host.strip("[]") or "0.0.0.0", int(port), limit=_MAX_REQUEST
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(_REQUEST_TIMEOUT):
                head = await reader.readuntil(b"\r\n\r\n")
            method, _, rest = head.split(b"\r\n", 1)[0].decode("latin-1").partition(" ")
            path = rest.split(" ", 1)[0].split("?", 1)[0]
            if method not in ("GET", "HEAD"):
                status, body, kind = "405 Method Not Allowed", b"GET only\n", "text/plain"
            elif path in ("/metrics", "/"):
                status, body, kind = "200 OK", self.render(), CONTENT_TYPE
            else:
                status, body, kind = "404 Not Found", b"see /metrics\n", "text/plain"
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            )
            if method != "HEAD":
                writer.write(body)
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass  # a slow, oversized or vanished scraper gets nothing
        except UnicodeDecodeError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
