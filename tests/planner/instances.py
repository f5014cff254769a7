"""Random planning instances built as `console.model` objects (no YAML): a fleet of a few
sites in one province, and a PlanningInput of platforms, server SKUs, demands and a policy.

The division tree is 广东 440000 with 广州 440100 (天河 440106) and 深圳 440300 (南山 440305).
Sizes are chosen so that free capacity, a few servers and the demands are of one order of
magnitude: some plans need no purchase, some need servers, some cannot fit at all.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from hypothesis import strategies as st

from console.model.fleet import Cluster, Division, Fleet, Node, Resources, Site
from console.model.planning import (
    Amount,
    Demand,
    PlanningInput,
    PlanningPolicy,
    Platform,
    PlatformInstance,
    ServerSku,
)
from tongchou.divisions import Level, ancestors

GIB = 1 << 30
MIB = 1 << 20

DIVISIONS: dict[str, Division] = {
    "440000": Division("440000", "广东省", Level.PROVINCE, None),
    "440100": Division("440100", "广州市", Level.CITY, "440000"),
    "440300": Division("440300", "深圳市", Level.CITY, "440000"),
    "440106": Division("440106", "天河区", Level.COUNTY, "440100"),
    "440305": Division("440305", "南山区", Level.COUNTY, "440300"),
}
CODES = sorted(DIVISIONS)
LATENCY_BOUNDS = (1.0, 3.0, 5.0, 7.0, 9.0, 13.0)
SHARES = (0.0, 0.3, 0.6)


@dataclass(frozen=True, slots=True)
class Limits:
    """Inclusive ranges of what a random instance holds."""

    sites: tuple[int, int] = (2, 5)
    demands: tuple[int, int] = (1, 5)
    platforms: tuple[int, int] = (1, 3)
    skus: tuple[int, int] = (2, 4)
    max_slots: int = 6
    max_nodes: int = 3


TINY = Limits(sites=(2, 3), demands=(1, 4), platforms=(1, 2), skus=(2, 3), max_slots=4)
LARGE = Limits(sites=(2, 5), demands=(5, 40), platforms=(1, 3), skus=(2, 4), max_slots=6)


@dataclass(frozen=True, slots=True)
class Instance:
    fleet: Fleet
    planning: PlanningInput

    def free(self) -> dict[str, tuple[float, float]]:
        """Free reference cores and bytes per site (one cluster each), from the nodes."""
        out = {name: (0.0, 0.0) for name in self.fleet.sites}
        for node in self.fleet.nodes.values():
            site = self.fleet.clusters[node.cluster].site
            cpu, memory = out[site]
            out[site] = (  # per node: an over-allocated node takes nothing from the others
                cpu + max(0, node.capacity.cpu_milli - node.allocated.cpu_milli) / 1000,
                memory + max(0, node.capacity.memory_bytes - node.allocated.memory_bytes),
            )
        return out


def _fleet(rng: random.Random, limits: Limits) -> Fleet:
    fleet = Fleet(divisions=dict(DIVISIONS))
    for i in range(rng.randint(*limits.sites)):
        name = f"s{i}"
        fleet.sites[name] = Site(
            name,
            rng.choice(CODES),
            "cloud",
            power_price_cny_per_kwh=rng.randint(30, 110) / 100,
            pue=rng.randint(110, 200) / 100,
            free_server_slots=rng.randint(0, limits.max_slots),
        )
        cluster = f"c{i}"
        fleet.clusters[cluster] = Cluster(cluster, name, rng.choice((2, 3, 3)), rng.random() < 0.8)
        arch = rng.choice(("x86_64", "x86_64", "aarch64"))
        for j in range(rng.randint(0, limits.max_nodes)):
            cpu = rng.choice((8, 16, 32, 64)) * 1000
            memory = rng.choice((32, 64, 128, 256)) * GIB
            used_cpu = rng.randint(0, cpu // 500) * 500
            used_memory = rng.randint(0, memory // GIB) * GIB
            fleet.nodes[f"{cluster}-n{j}"] = Node(
                f"{cluster}-n{j}",
                cluster,
                arch,
                "intel-xeon" if arch == "x86_64" else "kunpeng-920",
                Resources(cpu, memory),
                Resources(used_cpu, used_memory),
            )
    return fleet


def _platforms(rng: random.Random, limits: Limits, sites: list[str]) -> dict[str, Platform]:
    out = {}
    for j in range(rng.randint(*limits.platforms)):
        name = f"p{j}"
        instances = tuple(PlatformInstance(s, ()) for s in sites if rng.random() < 0.4)
        out[name] = Platform(
            name=name,
            display_name=f"平台{j}",
            base=Amount(rng.randint(1, 32) * 500, rng.randint(1, 32) * GIB),
            per_unit=Amount(rng.randint(1, 16) * 125, rng.randint(1, 16) * 256 * MIB),
            build_cost_cny=rng.choice((0.0, float(rng.randint(2, 80) * 10_000))),
            min_level=rng.choice((Level.PROVINCE, Level.CITY)),
            instances=instances,
            mlps_level=rng.choice((2, 3)),
            archs=rng.choice(((), (), ("x86_64",), ("aarch64",), ("x86_64", "aarch64"))),
        )
    return out


def _skus(rng: random.Random, limits: Limits, share: float) -> dict[str, ServerSku]:
    out = {}
    for k in range(rng.randint(*limits.skus)):
        name = f"k{k}"
        domestic = rng.random() < 0.5
        out[name] = ServerSku(
            name=name,
            arch="aarch64" if domestic else "x86_64",
            chip="kunpeng-920" if domestic else "intel-xeon",
            domestic=domestic,
            capacity=Amount(rng.choice((16, 32, 48, 64)) * 1000, rng.choice((64, 128, 256)) * GIB),
            price_cny=float(rng.randint(20, 120) * 1000),
            power_w=float(rng.randint(20, 90) * 10),
            cpu_performance=rng.choice((0.6, 0.75, 0.85, 0.9, 1.0, 1.2, 1.5)),
        )
    if share > 0 and not any(s.domestic for s in out.values()):
        first = out["k0"]  # the loader refuses a share no SKU can give: keep to its rules
        out["k0"] = ServerSku(
            first.name, "aarch64", "kunpeng-920", True, first.capacity, first.price_cny,
            first.power_w, first.cpu_performance,
        )  # fmt: skip
    return out


def _demands(rng: random.Random, limits: Limits, platforms: list[str]) -> dict[str, Demand]:
    out = {}
    for i in range(rng.randint(*limits.demands)):
        division = rng.choice(CODES)
        scopes = [division, *(a for a in ancestors(division) if a in DIVISIONS)]
        name = f"d{i:02d}"
        out[name] = Demand(
            name=name,
            division=division,
            platform=rng.choice(platforms),
            units=rng.randint(1, 20) / 2,
            residency=rng.choice(scopes) if rng.random() < 0.3 else None,
            latency_max_ms=rng.choice(LATENCY_BOUNDS) if rng.random() < 0.3 else None,
        )
    return out


def random_instance(rng: random.Random, limits: Limits = Limits()) -> Instance:
    fleet = _fleet(rng, limits)
    share = rng.choice(SHARES)
    policy = PlanningPolicy(
        name="random",
        target_utilization=rng.choice((0.5, 0.6, 0.7, 0.8, 0.9, 1.0)),
        domestic_share_min=share,
        horizon_years=float(rng.randint(1, 5)),
        growth_per_year=rng.choice((0.0, 0.1, 0.2)),
        redundancy=rng.choice(("n+1", "none")),
    )
    platforms = _platforms(rng, limits, sorted(fleet.sites))
    planning = PlanningInput(
        platforms=platforms,
        demands=_demands(rng, limits, sorted(platforms)),
        skus=_skus(rng, limits, share),
        policy=policy,
    )
    return Instance(fleet, planning)


def instances(limits: Limits = Limits()) -> st.SearchStrategy[Instance]:
    """Random instances drawn through hypothesis (so failures replay and shrink)."""
    return st.randoms(use_true_random=False).map(lambda rng: random_instance(rng, limits))
