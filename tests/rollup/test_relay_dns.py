"""Agents find their site's relay by DNS (SRV _tongchou-relay._tcp.<domain>, asked of a DNS
server the test runs) and fall back to the hub when DNS names none or the relay is away."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.discover import RelayFinder, Srv, lookup_srv, rfc2782_order
from console.client import HubClient
from tests.e2e.conftest import Launcher, free_port
from tests.e2e.waiting import eventually
from tests.relay.conftest import start_relay
from tests.rollup.dns_server import SrvServer
from tongchou.v1 import common_pb2

NAME = "_tongchou-relay._tcp.gz-tianhe.gd.example."


@pytest.fixture
def dns_server() -> Iterator[SrvServer]:
    server = SrvServer()
    with server.running():
        yield server


def test_rfc2782_order() -> None:
    records = [
        Srv(20, 0, 7470, "backup.example."),
        Srv(10, 100, 7470, "a.example."),
        Srv(10, 0, 7470, "b.example."),
        Srv(10, 5, 7470, "."),  # "no service here": skipped
    ]
    orders = {tuple(s.target for s in rfc2782_order(records, random.Random(i))) for i in range(50)}
    assert all(order[-1] == "backup.example." and len(order) == 3 for order in orders)
    firsts = [o[0] for o in orders]
    assert "a.example." in firsts  # weight 100 against 0: a comes first (almost) always
    assert Srv(1, 1, 7470, "::1.").address == "[::1]:7470"


def test_lookup_against_a_dns_server(dns_server: SrvServer) -> None:
    dns_server.records[NAME] = ["10 1 7471 relay-1.gz-tianhe.gd.example.", "20 1 7470 hub."]
    records, ttl = lookup_srv(NAME, dns_server.address)
    assert [r.address for r in rfc2782_order(records, random.Random(0))] == [
        "relay-1.gz-tianhe.gd.example:7471",
        "hub:7470",
    ]
    assert ttl == 30
    assert lookup_srv("_tongchou-relay._tcp.nowhere.example.", dns_server.address) == ([], 10.0)


def test_no_dns_server_answering_means_no_relay() -> None:
    silent = f"127.0.0.1:{free_port()}"  # nothing listens there
    assert lookup_srv(NAME, silent) == ([], 10.0)


def test_answers_are_kept_for_their_ttl(dns_server: SrvServer) -> None:
    dns_server.records[NAME] = ["10 1 7471 relay-1."]
    now = [0.0]
    finder = RelayFinder("gz-tianhe.gd.example", dns_server.address, clock=lambda: now[0])
    assert finder.relays() == ["relay-1:7471"]
    dns_server.records[NAME] = ["10 1 7472 relay-2."]
    now[0] = 29.0
    assert finder.relays() == ["relay-1:7471"]
    now[0] = 31.0
    assert finder.relays() == ["relay-2:7472"]
    assert dns_server.questions == [NAME, NAME]


async def node_relay(client: HubClient, node: str) -> str | None:
    """The relay a ready node reports through ("direct" for none), None until it is ready."""
    async for n in client.nodes():
        if n.identity.node == node and n.state == common_pb2.NODE_STATE_READY:
            return n.relay or "direct"
    return None


@pytest.mark.slow
async def test_agents_use_the_relay_dns_names_else_the_hub(
    tmp_path: Path, dns_server: SrvServer
) -> None:
    launch = Launcher(tmp_path)
    try:
        hub = launch.hub()
        relay, relay_port, _ = start_relay(
            launch, hub.address, "--insecure", "--site", "gz-tianhe-dc"
        )
        dns_server.records[NAME] = [f"10 1 {relay_port} 127.0.0.1."]
        found = ("--relay-srv", "gz-tianhe.gd.example", "--relay-dns", dns_server.address)
        launch.agent(hub.address, *found, "--node", "via-relay")
        absent = ("--relay-srv", "elsewhere.gd.example", "--relay-dns", dns_server.address)
        launch.agent(hub.address, *absent, "--node", "no-record")
        async with HubClient(hub.address) as client:
            via = await eventually(lambda: node_relay(client, "via-relay"), 30, "via the relay")
            assert via == "gz-tianhe-dc"
            direct = await eventually(lambda: node_relay(client, "no-record"), 30, "direct")
            assert direct == "direct"
            # the relay away: the agent falls back to the hub
            relay.stop()
            dead_relay = await eventually(
                lambda: _direct(client, "via-relay"), 40, "the agent on the hub"
            )
            assert dead_relay == "direct"
    finally:
        launch.close()


async def _direct(client: HubClient, node: str) -> str | None:
    seen = await node_relay(client, node)
    return seen if seen == "direct" else None
