"""A site relay between simulated agents and the hub, as real processes: the hub away and back,
the relay killed and restarted, a buffer too small, and a node of another site."""

from __future__ import annotations

import asyncio
import signal
import urllib.request
from pathlib import Path

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from console.client import HubClient
from tests.e2e.conftest import Launcher, Proc
from tests.e2e.waiting import eventually
from tests.relay.conftest import SITE_A_NODES, start_relay
from tongchou.v1 import common_pb2, inventory_pb2

pytestmark = pytest.mark.slow

Samples = dict[str, float]


def scrape(port: int) -> Samples:
    """Every sample of a /metrics page, keyed by name and labels."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            out[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return out


def simulate(launch: Launcher, fleet: Path, target: str, nodes: int) -> Proc:
    return launch.spawn(
        "simulate", "simulate", "--fleet", str(fleet), "--hub", target, "--insecure",
        "--limit", str(nodes), "--interval", "0.2s",
    )  # fmt: skip


async def nodes_of(client: HubClient) -> dict[str, inventory_pb2.Node]:
    return {node.identity.node: node async for node in client.nodes()}


async def all_ready_via(client: HubClient, names: list[str], relay: str) -> bool | None:
    nodes = await nodes_of(client)
    ok = all(
        name in nodes
        and nodes[name].state == common_pb2.NODE_STATE_READY
        and nodes[name].relay == relay
        for name in names
    )
    return True if ok else None


async def relay_quiet(metrics_port: int) -> Samples | None:
    """The relay's metrics once it holds nothing and every report it took is accounted for."""
    m = scrape(metrics_port)
    taken = m["tongchou_relay_reports_received_total"]
    settled = (
        m["tongchou_relay_reports_forwarded_total"]
        + m["tongchou_relay_reports_dropped_total"]
        + m["tongchou_relay_reports_refused_total"]
    )
    return m if m["tongchou_relay_buffered_reports"] == 0 and taken == settled else None


async def test_hub_away_and_back_loses_nothing(launch: Launcher, fleet_file: Path) -> None:
    hub = launch.hub("--fleet", str(fleet_file))
    relay, relay_port, relay_metrics = start_relay(
        launch, hub.address, "--insecure", "--site", "site-a", "--backoff-max", "1s"
    )
    simulator = simulate(launch, fleet_file, f"127.0.0.1:{relay_port}", len(SITE_A_NODES))
    async with HubClient(hub.address) as client:
        await eventually(lambda: all_ready_via(client, SITE_A_NODES, "site-a"), 30, "relayed")
    hub.stop(signal.SIGKILL)

    async def buffering() -> float | None:
        held = scrape(relay_metrics)["tongchou_relay_buffered_reports"]
        return held if held >= 20 else None

    await eventually(buffering, 30, "the relay to buffer while the hub is away")
    assert scrape(relay_metrics)["tongchou_relay_hub_connected"] == 0
    hub = launch.hub("--fleet", str(fleet_file), port=hub.port, store=hub.store)
    async with HubClient(hub.address) as client:
        await eventually(lambda: all_ready_via(client, SITE_A_NODES, "site-a"), 30, "back")
    simulator.stop()  # no new reports
    m = await eventually(lambda: relay_quiet(relay_metrics), 30, "the relay to settle")
    assert m["tongchou_relay_reports_dropped_total"] == 0
    assert m["tongchou_relay_reports_refused_total"] == 0
    assert m["tongchou_relay_reports_forwarded_total"] == m["tongchou_relay_reports_received_total"]
    hub_m = scrape(hub.metrics_port)
    assert hub_m.get("tongchou_hub_relay_reports_dropped_total{site=site-a}", 0) == 0
    relay.stop()


async def test_full_buffer_drops_are_counted_and_told(launch: Launcher, fleet_file: Path) -> None:
    hub = launch.hub("--fleet", str(fleet_file))
    _relay, relay_port, relay_metrics = start_relay(
        launch, hub.address, "--insecure", "--site", "site-a", "--buffer", "10",
        "--backoff-max", "1s",
    )  # fmt: skip
    simulator = simulate(launch, fleet_file, f"127.0.0.1:{relay_port}", len(SITE_A_NODES))
    async with HubClient(hub.address) as client:
        await eventually(lambda: all_ready_via(client, SITE_A_NODES, "site-a"), 30, "relayed")
    hub.stop(signal.SIGKILL)

    async def dropping() -> float | None:
        dropped = scrape(relay_metrics)["tongchou_relay_reports_dropped_total"]
        return dropped if dropped >= 30 else None

    await eventually(dropping, 30, "the relay to drop the oldest reports")
    hub = launch.hub("--fleet", str(fleet_file), port=hub.port, store=hub.store)
    simulator.stop()
    m = await eventually(lambda: relay_quiet(relay_metrics), 30, "the relay to settle")
    dropped = m["tongchou_relay_reports_dropped_total"]
    assert dropped >= 30
    assert (
        m["tongchou_relay_reports_forwarded_total"] + dropped
        == (m["tongchou_relay_reports_received_total"])
    )

    async def told() -> float | None:
        value = scrape(hub.metrics_port).get(
            "tongchou_hub_relay_reports_dropped_total{site=site-a}"
        )
        return value if value == dropped else None

    await eventually(told, 20, "the hub to count the relay's drops")
    events: list[inventory_pb2.Event] = []
    async with HubClient(hub.address) as client:
        async for delta in client.watch():
            events.extend(e for e in delta.events if e.kind == "relay_dropped")
            if delta.snapshot_done:
                break
    assert events and events[0].subject == "site-a"
    assert f"dropped {int(dropped)} reports" in events[0].message


async def test_relay_killed_and_restarted_every_loss_counted(
    launch: Launcher, fleet_file: Path
) -> None:
    hub = launch.hub("--fleet", str(fleet_file))
    relay, relay_port, _metrics = start_relay(
        launch, hub.address, "--insecure", "--site", "site-a", "--batch-wait", "1s"
    )
    simulator = simulate(launch, fleet_file, f"127.0.0.1:{relay_port}", len(SITE_A_NODES))
    async with HubClient(hub.address) as client:
        await eventually(lambda: all_ready_via(client, SITE_A_NODES, "site-a"), 30, "relayed")
        await asyncio.sleep(1.5)
        relay.stop(signal.SIGKILL)  # its buffer (up to a second of reports) dies with it
        await asyncio.sleep(1.0)
        before = {n: v.last_sequence for n, v in (await nodes_of(client)).items()}
        start_relay(launch, hub.address, "--insecure", "--site", "site-a", port=relay_port)

        async def moved_on() -> bool | None:
            nodes = await nodes_of(client)
            return (
                True if all(nodes[n].last_sequence > before[n] + 5 for n in SITE_A_NODES) else None
            )

        await eventually(moved_on, 40, "the nodes to report through the new relay")
        simulator.stop()
        await asyncio.sleep(1.5)  # the relay's last batch
        nodes = await nodes_of(client)
    m = scrape(hub.metrics_port)
    received = m["tongchou_hub_reports_received_total"]
    duplicates = m["tongchou_hub_relay_reports_duplicate_total"]
    missing = m.get("tongchou_hub_relay_reports_missing_total{site=site-a}", 0)
    # every report of every node's run is either at the hub or counted as missing
    sent = sum(nodes[n].last_sequence for n in SITE_A_NODES)
    assert received - duplicates + missing == sent
    assert missing > 0  # the killed relay's buffer, and reports written to it as it died


async def test_relay_cannot_vouch_for_another_sites_node(
    launch: Launcher, fleet_file: Path
) -> None:
    hub = launch.hub("--fleet", str(fleet_file))
    _relay, relay_port, relay_metrics = start_relay(
        launch, hub.address, "--insecure", "--site", "site-a"
    )
    simulate(launch, fleet_file, f"127.0.0.1:{relay_port}", 9)  # site-a's six and site-b's three
    async with HubClient(hub.address) as client:
        await eventually(lambda: all_ready_via(client, SITE_A_NODES, "site-a"), 30, "relayed")

        async def refused() -> Samples | None:
            m = scrape(hub.metrics_port)
            return m if m["tongchou_hub_denied_total{reason=relay_site}"] >= 3 else None

        await eventually(refused, 30, "the hub to refuse site-b's nodes")
        nodes = await nodes_of(client)
    assert not [name for name in nodes if name.startswith("b-")]
    assert scrape(relay_metrics)["tongchou_relay_reports_refused_total"] >= 3
    with pytest.raises(grpc.aio.AioRpcError) as err:
        async with HubClient(hub.address) as client:
            await client.node("b-1")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
