"""A scoped caller's Watch stream over real mutual TLS: the nodes and events of its own subtree,
the others' only as counts (how many changed, how many events), never their names."""

from __future__ import annotations

import asyncio

from tongchou.v1 import inventory_pb2

from . import test_authz
from .conftest import client_tls, send_one
from .test_authz import Api

api = test_authz.api  # the mutual-TLS hub with its users, shared with the guard's tests

OTHERS = ("yuexiu-01", "yuexiu-02")  # nodes of 440104, outside the county viewer's 440106


def _named(delta: inventory_pb2.InventoryDelta) -> set[str]:
    """Every node or workload a delta names."""
    return {n.identity.node for n in delta.upserted} | {e.subject for e in delta.events}


async def test_a_scoped_watch_counts_the_changes_and_events_outside_its_subtree(api: Api) -> None:
    county = api.client("county-viewer")
    stream = county.watch()
    snapshot: list[inventory_pb2.InventoryDelta] = []
    async with asyncio.timeout(30):
        while not snapshot or not snapshot[-1].snapshot_done:
            snapshot.append(await anext(stream))
    assert {n.identity.node for d in snapshot for n in d.upserted} == {"tianhe-01"}
    # the registration of yuexiu-01 is among the recent events: counted, not listed
    assert sum(d.events_elsewhere for d in snapshot) >= 1
    assert not any(_named(d) & set(OTHERS) for d in snapshot)

    for node, division in (("yuexiu-02", "440104"), ("tianhe-02", "440106")):
        creds = client_tls(api.ca, "node", node).channel_credentials()
        assert (await send_one(api.hub.port, creds, node, division)).accepted
    deltas: list[inventory_pb2.InventoryDelta] = []
    async with asyncio.timeout(30):
        while not (
            any("tianhe-02" in _named(d) for d in deltas)
            and sum(d.changed_elsewhere for d in deltas) >= 1
            and sum(d.events_elsewhere for d in deltas) >= 1
        ):
            deltas.append(await anext(stream))
    assert not any(_named(d) & set(OTHERS) for d in deltas)
    assert all(d.summary.totals.nodes_ready <= 2 for d in deltas)  # its own totals only


async def test_an_unscoped_watch_of_a_subtree_counts_the_rest_too(api: Api) -> None:
    province = api.client("province-op")
    stream = province.watch("440106")
    async with asyncio.timeout(30):
        while not (await anext(stream)).snapshot_done:
            pass
    creds = client_tls(api.ca, "node", "yuexiu-02").channel_credentials()
    assert (await send_one(api.hub.port, creds, "yuexiu-02", "440104")).accepted
    async with asyncio.timeout(30):
        delta = await anext(stream)
        while not delta.changed_elsewhere:
            delta = await anext(stream)
    assert {n.identity.node for n in delta.upserted} <= {"tianhe-01"}
    assert "yuexiu-02" in {e.subject for e in delta.events}  # its scope covers every event
    assert delta.events_elsewhere == 0
