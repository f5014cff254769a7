"""Checks an agent's report before the hub believes it; each failure has a reason and a message."""

from __future__ import annotations

import math
import re
import time

from console.hub.metrics import REJECTION_REASONS
from tongchou import levels
from tongchou.divisions import DivisionCodeError, Level, level_of
from tongchou.v1 import agent_pb2, common_pb2

# Reasons a report is rejected: the values of the `reason` label of the rejection counter.
REASONS = REJECTION_REASONS

MAX_REPORT_BYTES = 64 * 1024
_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$")
_LABEL_KEY = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$")
_ARCH = re.compile(r"^[a-z0-9_]{1,32}$")
_TiB = 2**40
LIMITS = {
    "cpu_logical": 16_384,
    "memory_bytes": 64 * _TiB,
    "swap_bytes": 64 * _TiB,
    "disk_bytes": 1024 * _TiB,
    "entries": 256,
    "gpus": 64,
    "load": 1e6,
    "labels": 64,
}


class ReportRejected(Exception):
    """A report the hub will not accept."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def _fail(reason: str, message: str) -> ReportRejected:
    return ReportRejected(reason, message)


def check_identity(ident: common_pb2.NodeIdentity) -> None:
    """Checks who the node says it is."""
    if not ident.node:
        raise _fail("missing_field", "identity.node is empty")
    if not _NAME.match(ident.node):
        raise _fail("invalid_label", f"identity.node {ident.node[:64]!r} is not a valid node name")
    _check_division(ident)
    for field in ("site", "cluster", "provider"):
        value = getattr(ident, field)
        if not value:
            raise _fail("missing_field", f"identity.{field} is empty")
        if not _NAME.match(value):
            raise _fail("invalid_label", f"identity.{field} {value[:64]!r} is not a valid name")
    if not 1 <= ident.mlps_level <= 4:
        raise _fail("invalid_label", f"identity.mlps_level must be 1 to 4, got {ident.mlps_level}")
    if not _ARCH.match(ident.arch):
        raise _fail("invalid_label", f"identity.arch {ident.arch[:64]!r} is not an architecture")
    _check_labels(ident)


def _check_division(ident: common_pb2.NodeIdentity) -> None:
    """The division is a local one, and the level is its level."""
    try:
        level = level_of(ident.division)
    except DivisionCodeError as err:
        raise _fail("invalid_label", f"identity.division: {err}") from None
    if level.rank < Level.PROVINCE.rank:
        raise _fail("invalid_label", f"identity.division {ident.division} is not a local division")
    if ident.level != levels.to_wire(level):
        known = ident.level in common_pb2.Level.values()
        given = common_pb2.Level.Name(ident.level) if known else f"value {ident.level}"
        raise _fail(
            "invalid_label",
            f"identity.level {given} does not match division {ident.division} ({level.value})",
        )


def _check_labels(ident: common_pb2.NodeIdentity) -> None:
    """At most 64 labels, each a valid key with a value of at most 253 characters."""
    if len(ident.labels) > LIMITS["labels"]:
        raise _fail("absurd_value", f"identity.labels has {len(ident.labels)} entries (max 64)")
    for key, value in ident.labels.items():
        if not _LABEL_KEY.match(key):
            raise _fail("invalid_label", f"identity.labels key {key[:64]!r} is not a valid key")
        if len(value) > 253:
            raise _fail("invalid_label", f"identity.labels[{key!r}] is longer than 253 characters")


def check_capacity(cap: common_pb2.Capacity) -> None:
    """Checks what the node says it has."""
    if cap.cpu_logical == 0:
        raise _fail("missing_field", "capacity.cpu_logical is 0")
    if cap.cpu_logical > LIMITS["cpu_logical"]:
        raise _fail("absurd_value", f"capacity.cpu_logical {cap.cpu_logical} is absurd")
    if cap.cpu_physical > cap.cpu_logical:
        raise _fail(
            "absurd_value",
            f"capacity.cpu_physical {cap.cpu_physical} exceeds cpu_logical {cap.cpu_logical}",
        )
    if cap.memory_bytes == 0:
        raise _fail("missing_field", "capacity.memory_bytes is 0")
    for field in ("memory_bytes", "swap_bytes"):
        if getattr(cap, field) > LIMITS[field]:
            raise _fail("absurd_value", f"capacity.{field} {getattr(cap, field)} is absurd")
    for name, items in (("disks", cap.disks), ("nics", cap.nics), ("gpus", cap.gpus)):
        limit = LIMITS["gpus"] if name == "gpus" else LIMITS["entries"]
        if len(items) > limit:
            raise _fail("absurd_value", f"capacity.{name} has {len(items)} entries (max {limit})")
    for disk in cap.disks:
        if disk.total_bytes > LIMITS["disk_bytes"]:
            raise _fail("absurd_value", f"capacity.disks[{disk.mount!r}] size is absurd")


def check_usage(use: common_pb2.Usage, cap: common_pb2.Capacity) -> None:
    """Checks what the node says it uses."""
    for field in ("cpu_ratio", "load1", "load5", "load15"):
        value = getattr(use, field)
        if not math.isfinite(value):
            raise _fail("not_finite", f"usage.{field} is {value}")
        if value < 0:
            raise _fail("negative_value", f"usage.{field} is {value}")
    if use.cpu_ratio > 1.0:
        raise _fail("absurd_value", f"usage.cpu_ratio {use.cpu_ratio} is above 1")
    if max(use.load1, use.load5, use.load15) > LIMITS["load"]:
        raise _fail("absurd_value", "usage load average is absurd")
    if use.memory_used_bytes > cap.memory_bytes:
        raise _fail(
            "absurd_value",
            f"usage.memory_used_bytes {use.memory_used_bytes} exceeds capacity {cap.memory_bytes}",
        )
    if use.swap_used_bytes > cap.swap_bytes:
        raise _fail("absurd_value", "usage.swap_used_bytes exceeds capacity.swap_bytes")
    if len(use.disks) > LIMITS["entries"] or len(use.nets) > LIMITS["entries"]:
        raise _fail("absurd_value", "usage lists more than 256 disks or interfaces")


def check_envelope(report: agent_pb2.NodeReport, now: float | None = None) -> None:
    """Checks the run id, sequence and timestamps."""
    if not report.run_id or len(report.run_id) > 64:
        raise _fail("missing_field", "run_id must be 1 to 64 characters")
    if report.sequence == 0:
        raise _fail("missing_field", "sequence must start at 1")
    if not report.HasField("identity") or not report.HasField("capacity"):
        raise _fail("missing_field", "a report needs identity and capacity")
    collected = report.collected_at.seconds
    wall = time.time() if now is None else now
    if collected and not 946_684_800 <= collected <= wall + 86_400:
        raise _fail("absurd_value", f"collected_at {collected} is not a plausible time")


def name_change(old: common_pb2.NodeIdentity, new: common_pb2.NodeIdentity) -> str:
    """The first identity field that differs, for the message of an identity change."""
    for field in (
        "node",
        "division",
        "level",
        "site",
        "cluster",
        "provider",
        "mlps_level",
        "arch",
        "chip",
        "cpu_model",
        "os",
        "labels",
        "agent_version",
    ):
        if getattr(old, field) != getattr(new, field):
            return field
    return "identity"
