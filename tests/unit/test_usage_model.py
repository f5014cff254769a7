"""Tests for console.simulate.usage.UsageModel and console.simulate.nodes.SimNode."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from console.model.fleet import Cluster, Division, Fleet, Node, Resources, Site
from console.simulate.nodes import SimNode, identity_of, sim_node
from console.simulate.usage import BEIJING_OFFSET, Profile, UsageModel
from tongchou.divisions import Level
from tongchou.v1 import agent_pb2, common_pb2

GIB = 2**30
# 2025-06-15 00:00 Beijing time, as a Unix timestamp.
MIDNIGHT_BEIJING = 1_749_916_800
DAY = 86_400.0


def beijing(hour: float) -> float:
    """The Unix time of `hour` o'clock Beijing time on the test day."""
    return MIDNIGHT_BEIJING + hour * 3600


def test_midnight_constant_is_beijing_midnight() -> None:
    assert (MIDNIGHT_BEIJING + BEIJING_OFFSET) % DAY == 0


def test_for_node_is_deterministic() -> None:
    assert UsageModel.for_node("th-node-01", 7) == UsageModel.for_node("th-node-01", 7)
    assert UsageModel.for_node("th-node-01") == UsageModel.for_node("th-node-01", 0)
    assert UsageModel.for_node("th-node-01", 7) != UsageModel.for_node("th-node-02", 7)
    assert UsageModel.for_node("th-node-01", 7) != UsageModel.for_node("th-node-01", 8)


def test_profile_shares_over_many_nodes() -> None:
    models = [UsageModel.for_node(f"node-{i:05d}", seed=3) for i in range(2000)]
    counts = Counter(m.profile for m in models)
    assert 0.01 <= counts[Profile.HOT] / 2000 <= 0.06
    assert 0.08 <= counts[Profile.IDLE] / 2000 <= 0.17
    assert counts[Profile.NORMAL] / 2000 >= 0.77


def test_profile_base_ranges() -> None:
    for i in range(500):
        m = UsageModel.for_node(f"n{i}")
        assert -0.5 <= m.phase <= 0.5
        assert 0.01 <= m.noise <= 0.04
        if m.profile is Profile.HOT:
            assert 0.80 <= m.base_cpu <= 0.92
        elif m.profile is Profile.IDLE:
            assert 0.02 <= m.base_cpu <= 0.06
        else:
            assert 0.15 <= m.base_cpu <= 0.45


def test_cpu_and_memory_within_unit_range() -> None:
    rng = random.Random(5)
    for i in range(200):
        model = UsageModel.for_node(f"node-{i}")
        for step in range(48):
            now = MIDNIGHT_BEIJING + step * 1800
            assert 0.0 <= model.cpu(now, rng) <= 1.0
            assert 0.0 <= model.memory(now, rng) <= 1.0


def test_cpu_clamped_with_huge_noise() -> None:
    rng = random.Random(1)
    hot = UsageModel(Profile.HOT, 0.95, 0.9, 0.0, 5.0, 1)
    idle = UsageModel(Profile.IDLE, 0.02, 0.1, 0.0, 5.0, 1)
    values = [m.cpu(beijing(h), rng) for h in range(24) for m in (hot, idle)]
    assert min(values) == 0.0
    assert max(values) == 1.0


@pytest.mark.parametrize("phase", [-0.5, 0.0, 0.5])
def test_daily_peaks_in_afternoon(phase: float) -> None:
    model = UsageModel(Profile.NORMAL, 0.3, 0.5, phase, 0.02, 1)
    hours = [h / 4 for h in range(96)]
    values = {h: model.daily(beijing(h)) for h in hours}
    peak = max(values, key=lambda h: values[h])
    assert 14.0 <= peak <= 16.0
    assert values[peak] == pytest.approx(1.0, abs=1e-3)
    assert model.daily(beijing(3)) < 0.4
    assert model.daily(beijing(3)) < model.daily(beijing(10)) < model.daily(beijing(15))
    assert min(values.values()) == pytest.approx(0.35, abs=1e-3)


def test_daily_repeats_every_day() -> None:
    model = UsageModel(Profile.NORMAL, 0.3, 0.5, 0.2, 0.02, 1)
    assert model.daily(beijing(9)) == pytest.approx(model.daily(beijing(9) + DAY))


def _fleet() -> tuple[Fleet, Node]:
    node = Node(
        name="th-node-01",
        cluster="gov-a",
        arch="aarch64",
        chip="kunpeng-920",
        capacity=Resources(cpu_milli=64_000, memory_bytes=256 * GIB, disk_bytes=2 * 2**40),
        labels={"rack": "a3"},
    )
    fleet = Fleet(
        divisions={"440106": Division("440106", "天河区", Level.COUNTY, "440100")},
        sites={"tianhe-dc1": Site("tianhe-dc1", "440106", "on-prem")},
        clusters={"gov-a": Cluster("gov-a", "tianhe-dc1", 3)},
        nodes={"th-node-01": node},
    )
    return fleet, node


def test_identity_of() -> None:
    fleet, node = _fleet()
    ident = identity_of(fleet, node)
    assert (ident.node, ident.division, ident.level) == (
        "th-node-01",
        "440106",
        common_pb2.LEVEL_COUNTY,
    )
    assert (ident.site, ident.cluster, ident.provider) == ("tianhe-dc1", "gov-a", "on-prem")
    assert (ident.mlps_level, ident.arch, ident.chip) == (3, "aarch64", "kunpeng-920")
    assert ident.os.family == "openeuler"
    assert dict(ident.labels) == {"rack": "a3", "simulated": "true"}


def test_sim_node_reports() -> None:
    fleet, node = _fleet()
    sim = sim_node(fleet, node, seed=4, boot_time=1_700_000_000.0)
    assert isinstance(sim, SimNode)
    reports = [agent_pb2.NodeReport.FromString(sim.report(beijing(h))) for h in (9, 10, 11)]
    assert [r.sequence for r in reports] == [1, 2, 3]
    assert len({r.run_id for r in reports}) == 1
    assert len(reports[0].run_id) == 32
    for hour, rep in zip((9, 10, 11), reports, strict=True):
        assert rep.HasField("identity")
        assert rep.HasField("capacity")
        assert rep.identity.node == "th-node-01"
        assert rep.identity.level == common_pb2.LEVEL_COUNTY
        assert rep.capacity.cpu_logical == 64
        assert rep.capacity.cpu_physical == 64  # not x86: no hyper-threads
        assert rep.capacity.memory_bytes == 256 * GIB
        assert rep.capacity.disks[0].total_bytes == 2 * 2**40
        assert rep.collected_at.seconds == int(beijing(hour))
        assert rep.boot_time.seconds == 1_700_000_000
        assert 0.0 <= rep.usage.cpu_ratio <= 1.0
        assert 0 < rep.usage.memory_used_bytes <= rep.capacity.memory_bytes
        assert rep.usage.swap_used_bytes <= rep.capacity.swap_bytes
    sent = [r.usage.nets[0].bytes_sent for r in reports]
    assert sent == sorted(sent)


def test_sim_node_reports_pass_hub_validation() -> None:
    from console.hub.fleet import validate

    fleet, node = _fleet()
    sim = sim_node(fleet, node, boot_time=1_700_000_000.0)
    now = beijing(15)
    rep = agent_pb2.NodeReport.FromString(sim.report(now))
    validate.check_envelope(rep, now=now)
    validate.check_identity(rep.identity)
    validate.check_capacity(rep.capacity)
    validate.check_usage(rep.usage, rep.capacity)


def test_sim_node_same_seed_same_usage() -> None:
    fleet, node = _fleet()
    one = sim_node(fleet, node, seed=9, boot_time=1.0)
    two = sim_node(fleet, node, seed=9, boot_time=1.0)
    now = beijing(14)
    a = agent_pb2.NodeReport.FromString(one.report(now))
    b = agent_pb2.NodeReport.FromString(two.report(now))
    assert a.usage == b.usage
    assert a.run_id != b.run_id
