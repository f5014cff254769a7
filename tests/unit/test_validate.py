"""Tests for console.hub.fleet.validate: every rule rejects with its reason and names the field."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import pytest

from console.hub.fleet.validate import (
    REASONS,
    ReportRejected,
    check_capacity,
    check_envelope,
    check_identity,
    check_usage,
    name_change,
)
from tongchou.v1 import agent_pb2, common_pb2

GIB = 2**30
NOW = 1_750_000_000.0


def good_report() -> agent_pb2.NodeReport:
    report = agent_pb2.NodeReport(
        identity=common_pb2.NodeIdentity(
            node="th-node-01",
            division="440106",
            level=common_pb2.LEVEL_COUNTY,
            site="tianhe-dc1",
            cluster="gov-a",
            provider="on-prem",
            mlps_level=3,
            arch="aarch64",
            chip="kunpeng-920",
            labels={"rack": "a3"},
        ),
        run_id="3f2a9c",
        sequence=1,
        capacity=common_pb2.Capacity(
            cpu_logical=64, cpu_physical=32, memory_bytes=256 * GIB, swap_bytes=8 * GIB
        ),
        usage=common_pb2.Usage(
            cpu_ratio=0.4, load1=12.0, load5=10.0, load15=9.0, memory_used_bytes=100 * GIB
        ),
    )
    report.collected_at.FromSeconds(int(NOW))
    return report


def check_all(report: agent_pb2.NodeReport) -> None:
    check_envelope(report, now=NOW)
    check_identity(report.identity)
    check_capacity(report.capacity)
    check_usage(report.usage, report.capacity)


def rejected(report: agent_pb2.NodeReport) -> ReportRejected:
    with pytest.raises(ReportRejected) as info:
        check_all(report)
    error = info.value
    assert error.reason in REASONS
    assert str(error) == error.message
    return error


def test_good_report_passes() -> None:
    check_all(good_report())


def test_good_report_without_collected_at_passes() -> None:
    report = good_report()
    report.ClearField("collected_at")
    check_all(report)


Mutation = Callable[[agent_pb2.NodeReport], None]


def _set(path: str, value: object) -> Mutation:
    def mutate(report: agent_pb2.NodeReport) -> None:
        *parents, last = path.split(".")
        target: object = report
        for name in parents:
            target = getattr(target, name)
        setattr(target, last, value)

    return mutate


CASES: list[tuple[str, Mutation, str, str]] = [
    ("empty node", _set("identity.node", ""), "missing_field", "identity.node is empty"),
    ("bad node", _set("identity.node", "-node"), "invalid_label", "identity.node '-node'"),
    ("bad division", _set("identity.division", "44010"), "invalid_label", "identity.division"),
    (
        "letters in division",
        _set("identity.division", "44A106"),
        "invalid_label",
        "identity.division: '44A106' is not a division code",
    ),
    (
        "national division",
        _set("identity.division", "000000"),
        "invalid_label",
        "identity.division 000000 is not a local division",
    ),
    (
        "level mismatch",
        _set("identity.level", common_pb2.LEVEL_CITY),
        "invalid_label",
        "identity.level LEVEL_CITY does not match division 440106 (county)",
    ),
    (
        "level unspecified",
        _set("identity.level", common_pb2.LEVEL_UNSPECIFIED),
        "invalid_label",
        "identity.level LEVEL_UNSPECIFIED",
    ),
    ("no site", _set("identity.site", ""), "missing_field", "identity.site is empty"),
    ("no cluster", _set("identity.cluster", ""), "missing_field", "identity.cluster is empty"),
    ("no provider", _set("identity.provider", ""), "missing_field", "identity.provider is empty"),
    ("bad site", _set("identity.site", "dc 1"), "invalid_label", "identity.site 'dc 1'"),
    (
        "mlps 0",
        _set("identity.mlps_level", 0),
        "invalid_label",
        "identity.mlps_level must be 1 to 4, got 0",
    ),
    (
        "mlps 5",
        _set("identity.mlps_level", 5),
        "invalid_label",
        "identity.mlps_level must be 1 to 4, got 5",
    ),
    ("bad arch", _set("identity.arch", "ARM 64"), "invalid_label", "identity.arch 'ARM 64'"),
    ("no arch", _set("identity.arch", ""), "invalid_label", "identity.arch ''"),
    ("cpu 0", _set("capacity.cpu_logical", 0), "missing_field", "capacity.cpu_logical is 0"),
    (
        "cpu huge",
        _set("capacity.cpu_logical", 100_000),
        "absurd_value",
        "capacity.cpu_logical 100000 is absurd",
    ),
    (
        "physical > logical",
        _set("capacity.cpu_physical", 65),
        "absurd_value",
        "capacity.cpu_physical 65 exceeds cpu_logical 64",
    ),
    ("memory 0", _set("capacity.memory_bytes", 0), "missing_field", "capacity.memory_bytes is 0"),
    ("cpu NaN", _set("usage.cpu_ratio", math.nan), "not_finite", "usage.cpu_ratio is nan"),
    ("cpu inf", _set("usage.cpu_ratio", math.inf), "not_finite", "usage.cpu_ratio is inf"),
    ("cpu negative", _set("usage.cpu_ratio", -0.1), "negative_value", "usage.cpu_ratio is -0.1"),
    ("load NaN", _set("usage.load5", math.nan), "not_finite", "usage.load5 is nan"),
    ("load -inf", _set("usage.load15", -math.inf), "not_finite", "usage.load15 is -inf"),
    ("load negative", _set("usage.load1", -1.0), "negative_value", "usage.load1 is -1.0"),
    ("load huge", _set("usage.load1", 2e6), "absurd_value", "usage load average is absurd"),
    (
        "cpu above 1",
        _set("usage.cpu_ratio", 1.5),
        "absurd_value",
        "usage.cpu_ratio 1.5 is above 1",
    ),
    (
        "memory over capacity",
        _set("usage.memory_used_bytes", 256 * GIB + 1),
        "absurd_value",
        "usage.memory_used_bytes",
    ),
    ("run_id empty", _set("run_id", ""), "missing_field", "run_id must be 1 to 64 characters"),
    ("run_id long", _set("run_id", "r" * 65), "missing_field", "run_id must be 1 to 64"),
    ("sequence 0", _set("sequence", 0), "missing_field", "sequence must start at 1"),
]


@pytest.mark.parametrize(
    ("mutate", "reason", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rule(mutate: Mutation, reason: str, message: str) -> None:
    report = good_report()
    mutate(report)
    error = rejected(report)
    assert error.reason == reason
    assert message in error.message


def test_too_many_labels() -> None:
    report = good_report()
    report.identity.labels.update({f"k{i}": "v" for i in range(65)})
    error = rejected(report)
    assert error.reason == "absurd_value"
    assert error.message == "identity.labels has 66 entries (max 64)"


def test_sixty_four_labels_pass() -> None:
    report = good_report()
    report.identity.labels.clear()
    report.identity.labels.update({f"k{i}": "v" for i in range(64)})
    check_all(report)


def test_label_too_long() -> None:
    report = good_report()
    report.identity.labels["k" * 64] = "v"
    error = rejected(report)
    assert error.reason == "invalid_label"
    assert error.message.startswith("identity.labels key 'kkk")


def test_label_key_with_spaces_and_long_value() -> None:
    report = good_report()
    report.identity.labels["bad key"] = "v"
    assert rejected(report).message == "identity.labels key 'bad key' is not a valid key"
    report = good_report()
    report.identity.labels["rack"] = "v" * 254
    assert rejected(report).message.startswith("identity.labels['rack'] is longer than 253")


def test_memory_over_capacity_message_names_both() -> None:
    report = good_report()
    report.usage.memory_used_bytes = 300 * GIB
    error = rejected(report)
    assert error.message == (f"usage.memory_used_bytes {300 * GIB} exceeds capacity {256 * GIB}")


def test_missing_identity_or_capacity() -> None:
    for field in ("identity", "capacity"):
        report = good_report()
        report.ClearField(field)
        with pytest.raises(ReportRejected) as info:
            check_envelope(report, now=NOW)
        assert info.value.reason == "missing_field"
        assert "identity and capacity" in info.value.message


def test_collected_at_far_future() -> None:
    report = good_report()
    report.collected_at.FromSeconds(int(NOW) + 2 * 86_400)
    error = rejected(report)
    assert error.reason == "absurd_value"
    assert error.message == f"collected_at {int(NOW) + 2 * 86_400} is not a plausible time"


def test_collected_at_slightly_ahead_is_fine() -> None:
    report = good_report()
    report.collected_at.FromSeconds(int(NOW) + 3600)
    check_envelope(report, now=NOW)


def test_collected_at_before_2000() -> None:
    report = good_report()
    report.collected_at.FromSeconds(946_684_799)
    with pytest.raises(ReportRejected, match="collected_at 946684799"):
        check_envelope(report, now=NOW)


def test_collected_at_uses_wall_clock_by_default() -> None:
    report = good_report()
    report.collected_at.FromSeconds(int(time.time()))
    check_envelope(report)


def test_name_change_names_first_differing_field() -> None:
    old = good_report().identity
    new = common_pb2.NodeIdentity()
    new.CopyFrom(old)
    assert name_change(old, new) == "identity"
    new.site = "other-dc"
    new.arch = "x86_64"
    assert name_change(old, new) == "site"
    new.site = old.site
    assert name_change(old, new) == "arch"
    new.arch = old.arch
    new.labels["zone"] = "south"
    assert name_change(old, new) == "labels"
    new.division = "440100"
    assert name_change(old, new) == "division"
