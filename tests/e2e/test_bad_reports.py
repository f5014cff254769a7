"""Bad reports are rejected with INVALID_ARGUMENT and a reason, while a good agent keeps going."""

from __future__ import annotations

import math
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from console.client import HubClient
from tests.e2e.conftest import Launcher
from tests.e2e.waiting import eventually
from tongchou.v1 import agent_pb2, common_pb2

pytestmark = pytest.mark.slow
GOOD = "gz-tianhe-test-01"


def report(name: str, sequence: int = 1, run_id: str = "run-a") -> agent_pb2.NodeReport:
    out = agent_pb2.NodeReport(run_id=run_id, sequence=sequence)
    out.identity.CopyFrom(
        common_pb2.NodeIdentity(
            node=name, division="440305", level=common_pb2.LEVEL_COUNTY, site="sz-nanshan-dc",
            cluster="sz-nanshan-a", provider="tencent-cloud", mlps_level=3, arch="aarch64",
            chip="kunpeng-920",
        )
    )  # fmt: skip
    out.capacity.CopyFrom(
        common_pb2.Capacity(cpu_logical=128, cpu_physical=128, memory_bytes=512 * 2**30)
    )
    out.usage.CopyFrom(common_pb2.Usage(cpu_ratio=0.3, load1=12, memory_used_bytes=2**30))
    out.collected_at.GetCurrentTime()
    return out


def mutate(change: Callable[[agent_pb2.NodeReport], None], name: str) -> bytes:
    r = report(name)
    change(r)
    return r.SerializeToString()


def _set(path: str, value: object) -> Callable[[agent_pb2.NodeReport], None]:
    def apply(r: agent_pb2.NodeReport) -> None:
        *parents, leaf = path.split(".")
        target: object = r
        for part in parents:
            target = getattr(target, part)
        setattr(target, leaf, value)

    return apply


def _oversize(r: agent_pb2.NodeReport) -> None:
    r.identity.labels["blob"] = "x" * 70_000


def _moved(r: agent_pb2.NodeReport) -> None:
    r.identity.cluster = "sz-nanshan-b"
    r.sequence = 2


def _no_identity(r: agent_pb2.NodeReport) -> None:
    r.ClearField("identity")


# (case, reason counted, frames sent on one stream, words the status must contain)
CASES: list[tuple[str, str, Sequence[bytes], str]] = [
    (
        "negative",
        "negative_value",
        [mutate(_set("usage.cpu_ratio", -0.5), "b1")],
        "usage.cpu_ratio",
    ),
    ("nan", "not_finite", [mutate(_set("usage.load1", math.nan), "b2")], "usage.load1 is nan"),
    ("inf", "not_finite", [mutate(_set("usage.load5", math.inf), "b3")], "usage.load5 is inf"),
    ("cpus", "absurd_value", [mutate(_set("capacity.cpu_logical", 10**6), "b4")], "cpu_logical"),
    (
        "memory",
        "absurd_value",
        [mutate(_set("usage.memory_used_bytes", 2**50), "b5")],
        "exceeds capacity",
    ),
    ("oversize", "oversize", [mutate(_oversize, "b6")], "exceeds 65536"),
    ("garbage", "malformed", [b"\xff\xff\xff\xff"], "not a valid NodeReport"),
    ("no identity", "missing_field", [mutate(_no_identity, "b7")], "identity and capacity"),
    ("division", "invalid_label", [mutate(_set("identity.division", "44030"), "b8")], "division"),
    (
        "backwards",
        "sequence_backwards",
        [report("b9", 5).SerializeToString(), report("b9", 4).SerializeToString()],
        "sequence 4 is not after 5",
    ),
    (
        "identity change",
        "identity_changed",
        [
            report("b10", 1).SerializeToString(),
            mutate(_moved, "b10"),
        ],
        "identity.cluster changed mid-stream",
    ),
]


async def send(address: str, frames: Sequence[bytes]) -> grpc.aio.AioRpcError | None:
    async with grpc.aio.insecure_channel(address) as channel:
        call: Any = channel.stream_stream(
            "/tongchou.v1.AgentService/Connect",
            request_serializer=None,
            response_deserializer=agent_pb2.ReportAck.FromString,
        )()
        try:
            for frame in frames:
                await call.write(frame)
                await call.read()
            await call.done_writing()
            await call.read()
        except grpc.aio.AioRpcError as err:
            return err
        finally:
            call.cancel()
    return None


def rejected_counts(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "tongchou_hub_reports_rejected_total":
                out[sample.labels["reason"]] = sample.value
    return out


async def test_each_bad_report_is_rejected_and_the_good_agent_is_unaffected(
    launch: Launcher,
) -> None:
    hub = launch.hub()
    launch.agent(hub.address)
    async with HubClient(hub.address) as client:
        first = await eventually(lambda: client.node(GOOD), what="the good agent")
        for case, _reason, frames, words in CASES:
            err = await send(hub.address, frames)
            assert err is not None, f"{case}: the hub accepted a bad report"
            assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, case
            assert words in (err.details() or ""), f"{case}: {err.details()}"

        async def moved_on() -> int | None:
            node = await client.node(GOOD)
            return node.last_sequence if node.last_sequence > first.last_sequence + 2 else None

        await eventually(moved_on, what="the good agent to keep reporting")
        names = {n.identity.node async for n in client.nodes()}
    assert "b1" not in names and "b6" not in names
    counts = rejected_counts(hub.metrics_port)
    for case, reason, _frames, _words in CASES:
        assert counts[reason] >= 1, f"{case} counted under {reason}"
    assert sum(counts.values()) == len(CASES)
    assert hub.popen.poll() is None


async def test_sequence_may_not_go_back_across_streams_of_one_run(launch: Launcher) -> None:
    hub = launch.hub()
    assert await send(hub.address, [report("c1", 10).SerializeToString()]) is None
    err = await send(hub.address, [report("c1", 3).SerializeToString()])
    assert err is not None and err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "sequence 3 is not after 10" in (err.details() or "")
    # A new run of the agent starts again at 1.
    assert await send(hub.address, [report("c1", 1, run_id="run-b").SerializeToString()]) is None
