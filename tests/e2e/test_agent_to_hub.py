"""A real hub and a real agent on loopback: the node appears with its true capacity and labels."""

from __future__ import annotations

import platform
import signal
import urllib.request

import grpc
import psutil
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from console.client import HubClient
from tests.e2e.conftest import SAMPLE, Launcher, free_port
from tests.e2e.waiting import eventually
from tongchou.v1 import common_pb2, inventory_pb2

pytestmark = pytest.mark.slow
NODE = "gz-tianhe-test-01"


def scrape(port: int) -> dict[str, list[tuple[dict[str, str], float]]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


async def node_named(client: HubClient, name: str) -> inventory_pb2.Node | None:
    try:
        return await client.node(name)
    except grpc.aio.AioRpcError:
        return None


async def test_node_appears_with_its_true_capacity_and_labels(launch: Launcher) -> None:
    hub = launch.hub()
    agent_metrics = free_port()
    agent = launch.agent(hub.address, metrics_port=agent_metrics)
    async with HubClient(hub.address) as client:
        node = await eventually(lambda: node_named(client, NODE), what="the agent's node")
    ident = node.identity
    assert (ident.division, ident.site, ident.cluster, ident.provider) == (
        "440106", "gz-tianhe-dc", "gz-tianhe-a", "on-prem",
    )  # fmt: skip
    assert ident.level == common_pb2.LEVEL_COUNTY
    assert ident.mlps_level == 3
    assert dict(ident.labels) == {"rack": "r12", "owner": "数字政府"}
    assert ident.arch == platform.machine()
    assert ident.os.family in {"kylin", "uos", "openeuler", "debian", "other"}
    assert node.capacity.cpu_logical == psutil.cpu_count()
    assert node.capacity.memory_bytes == psutil.virtual_memory().total
    assert node.capacity.disks, "at least one real disk mount"
    assert node.state == common_pb2.NODE_STATE_READY
    assert 0.0 <= node.usage.cpu_ratio <= 1.0

    agent_samples = scrape(agent_metrics)
    (labels, cores) = agent_samples["tongchou_node_cpu_cores"][0]
    assert labels == {
        "node": NODE, "cluster": "gz-tianhe-a", "site": "gz-tianhe-dc",
        "division": "440106", "level": "county",
    }  # fmt: skip
    assert cores == psutil.cpu_count()

    async def accepted() -> float | None:
        samples = scrape(agent_metrics)["tongchou_agent_reports_total"]
        count = {lab["result"]: value for lab, value in samples}["accepted"]
        return count if count >= 1 else None

    await eventually(accepted, what="the agent to count an accepted report")

    hub_samples = scrape(hub.metrics_port)
    ready = [v for lab, v in hub_samples["tongchou_hub_nodes"] if lab["state"] == "ready"]
    assert ready == [1.0]
    assert hub_samples["tongchou_hub_build_info"][0][1] == 1.0

    async with grpc.aio.insecure_channel(hub.address) as channel:
        check = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="tongchou.v1.AgentService")
        )
        assert check.status == health_pb2.HealthCheckResponse.SERVING
        reflect = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo()
        await reflect.write(reflection_pb2.ServerReflectionRequest(list_services=""))
        answer = await reflect.read()
        await reflect.done_writing()
        services = {s.name for s in answer.list_services_response.service}
        assert {"tongchou.v1.AgentService", "tongchou.v1.InventoryService"} <= services

    assert agent.stop(signal.SIGTERM) == 0
    assert "stopped" in agent.text()


async def test_hub_stretches_the_interval_and_agents_obey(launch: Launcher) -> None:
    hub = launch.hub("--max-report-rate", "20")
    agent_metrics = free_port()
    launch.agent(hub.address, metrics_port=agent_metrics)
    launch.spawn(
        "simulate", "simulate", "--fleet", str(SAMPLE), "--hub", hub.address, "--limit", "39"
    )

    async def stretched() -> float | None:
        async with HubClient(hub.address) as client:
            summary = await client.fleet_summary()
        interval = summary.report_interval.ToTimedelta().total_seconds()
        return interval if interval == 2.0 else None

    assert await eventually(stretched, what="40 nodes / 20 reports/s = a 2 s interval") == 2.0

    async def obeyed() -> float | None:
        value = scrape(agent_metrics)["tongchou_agent_report_interval_seconds"][0][1]
        return value if value == 2.0 else None

    assert await eventually(obeyed, what="the agent to take the 2 s interval") == 2.0


async def test_silent_node_turns_stale_then_lost(launch: Launcher) -> None:
    hub = launch.hub("--lost-after", "3s")
    agent = launch.agent(hub.address)
    async with HubClient(hub.address) as client:
        await eventually(lambda: node_named(client, NODE), what="the node")
        agent.stop(signal.SIGKILL)

        async def in_state(state: int) -> int | None:
            node = await client.node(NODE)
            return node.state if node.state == state else None

        await eventually(lambda: in_state(common_pb2.NODE_STATE_STALE), what="stale")
        await eventually(lambda: in_state(common_pb2.NODE_STATE_LOST), what="lost")
