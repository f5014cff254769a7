"""The relay's buffer: bounded, oldest dropped first, every drop counted, resends in order."""

from __future__ import annotations

import pytest

from console.relay.buffer import Buffer
from console.relay.upstream import encode_batch
from tongchou.v1 import agent_pb2, relay_pb2


def item(i: int) -> tuple[str, bytes]:
    return (f"n-{i}", agent_pb2.NodeReport(run_id="r", sequence=i).SerializeToString())


async def test_full_buffer_drops_the_oldest_and_counts() -> None:
    told: list[int] = []
    buffer = Buffer(3, told.append)
    for i in range(1, 6):
        buffer.put(item(i))
    assert buffer.dropped == 2 and told == [1, 1]
    assert [name for name, _raw in buffer.take(10)] == ["n-3", "n-4", "n-5"]


async def test_requeued_reports_go_back_in_front_in_order() -> None:
    buffer = Buffer(4)
    for i in range(1, 4):
        buffer.put(item(i))
    sent = buffer.take(2)
    buffer.put(item(4))
    buffer.requeue(sent)
    assert [name for name, _raw in buffer.take(10)] == ["n-1", "n-2", "n-3", "n-4"]
    buffer.put(item(5))
    buffer.requeue([item(1), item(2), item(3), item(4)])  # one over: the oldest goes
    assert buffer.dropped == 1
    assert [name for name, _raw in buffer.take(10)] == ["n-2", "n-3", "n-4", "n-5"]


def test_a_buffer_holds_at_least_one_report() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Buffer(0)


def test_a_batch_carries_the_agents_bytes_as_they_were() -> None:
    items = [item(i) for i in (1, 2, 300)]
    head = relay_pb2.RelayBatch(site="site-a", run_id="x", batch=7, dropped_total=5)
    batch = relay_pb2.RelayBatch.FromString(encode_batch(head, items))
    assert (batch.site, batch.batch, batch.dropped_total) == ("site-a", 7, 5)
    assert [r.SerializeToString() for r in batch.reports] == [raw for _n, raw in items]


async def test_a_batch_stays_under_its_byte_bound_but_takes_at_least_one() -> None:
    buffer = Buffer(10)
    for i in range(1, 5):
        buffer.put((f"n-{i}", bytes(100)))
    assert len(buffer.take(10, max_bytes=250)) == 2
    assert len(buffer.take(10, max_bytes=50)) == 1  # a report larger than the bound still goes
    assert len(buffer.take(10)) == 1
