"""The sample province in examples/guangdong loads and has the size and mix it promises."""

from __future__ import annotations

from collections import Counter

import pytest

from console.documents import POOL_LABEL
from console.model import Fleet, Resources
from tongchou.divisions import Level


@pytest.fixture
def fleet(sample_fleet: Fleet) -> Fleet:
    return sample_fleet


def test_levels_and_counts(fleet: Fleet) -> None:
    levels = Counter(d.level for d in fleet.divisions.values())
    assert levels[Level.PROVINCE] == 1
    assert levels[Level.CITY] >= 6
    assert levels[Level.COUNTY] >= 20
    assert levels[Level.TOWNSHIP] >= 4
    assert len(fleet.nodes) >= 3000


def test_required_divisions_have_real_names(fleet: Fleet) -> None:
    expected = {
        "440000": "广东省",
        "440100": "广州市",
        "440300": "深圳市",
        "440200": "韶关市",
        "441400": "梅州市",
        "441800": "清远市",
        "441900": "东莞市",
        "440106": "天河区",
        "440232": "乳源瑶族自治县",
        "441826": "连南瑶族自治县",
        "440111002": "三元里街道",
        "441422100": "湖寮镇",
    }
    for code, name in expected.items():
        assert fleet.divisions[code].name == name
    dongguan = [d for d in fleet.divisions.values() if d.parent == "441900"]
    assert len(dongguan) >= 2
    assert all(d.level is Level.TOWNSHIP for d in dongguan)


def test_domain_sample_counties_present(fleet: Fleet) -> None:
    for code in [
        "440103",
        "440104",
        "440106",
        "440111",
        "440117",
        "440118",
        "440304",
        "440305",
        "440309",
    ]:
        assert fleet.divisions[code].level is Level.COUNTY
    for code in ["440232", "440281", "441422", "441481", "441826"]:
        assert fleet.divisions[code].parent == code[:4] + "00"


def test_providers_archs_and_mlps(fleet: Fleet) -> None:
    assert len({s.provider for s in fleet.sites.values()}) >= 4
    assert {n.arch for n in fleet.nodes.values()} >= {"x86_64", "aarch64", "loongarch64"}
    assert {c.mlps_level for c in fleet.clusters.values()} == {2, 3}
    chips = {n.chip for n in fleet.nodes.values()}
    assert {"kunpeng-920", "hygon-7380", "phytium-s2500", "loongson-3c5000"} <= chips


def test_shaoguan_hub_site_is_cheap_and_efficient(fleet: Fleet) -> None:
    hub = [s for s in fleet.sites.values() if s.compute_hub == "yuegangao"]
    assert hub
    others = [s for s in fleet.sites.values() if s.compute_hub is None]
    assert all(h.pue < min(o.pue for o in others) for h in hub)
    assert all(
        h.power_price_cny_per_kwh < min(o.power_price_cny_per_kwh for o in others) for h in hub
    )
    for site in fleet.sites.values():
        assert 1.2 <= site.pue <= 1.8
        assert 0.5 <= site.power_price_cny_per_kwh <= 0.75


def test_levels_are_sized_sensibly(fleet: Fleet) -> None:
    by_level: Counter[Level] = Counter()
    for node in fleet.nodes.values():
        by_level[fleet.division_of(node.cluster).level] += 1
    assert by_level[Level.PROVINCE] > by_level[Level.CITY] > by_level[Level.COUNTY]
    for cluster in fleet.clusters.values():
        level = fleet.division_of(cluster.name).level
        size = sum(1 for _ in fleet.nodes_in(cluster.name))
        if level is Level.TOWNSHIP:
            assert 1 <= size <= 5, cluster.name
            assert not cluster.shared
        if level in (Level.PROVINCE, Level.CITY):
            assert cluster.shared, cluster.name
            assert cluster.kube_context, cluster.name


def test_pool_nodes_are_labelled_and_sized(fleet: Fleet) -> None:
    node = fleet.nodes["gd-huawei-gov-kunpeng-1"]
    assert node.arch == "aarch64"
    assert node.capacity.cpu_milli == 128_000
    assert node.capacity.memory_bytes == 512 * 2**30
    assert node.labels[POOL_LABEL] == "gd-huawei-gov-kunpeng"
    with_status = [n for n in fleet.nodes.values() if n.usage is not None]
    assert with_status
    assert all(n.allocated != Resources() for n in with_status)
