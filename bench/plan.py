"""Generated planning instances (100, 500 and 2,000 demands over 30 sites and 4 SKUs):
solve time, cost, gap to the proven lower bound, and cost against the greedy baseline."""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine
from console.documents import build_fleet, load_documents
from console.model.fleet import Cluster, Fleet, Node, Resources, Site
from console.model.planning import (
    Amount,
    Demand,
    PlanningInput,
    PlanningPolicy,
    Platform,
    PlatformInstance,
    ServerSku,
)
from console.planner.greedy import greedy
from console.planner.milp import solve
from console.planner.problem import build_problem
from console.planner.resilience import analyse
from console.planner.solution import cost, violations
from tongchou.divisions import Level, level_of

GI = 2**30


def instance(demands: int, sites: int, rng: random.Random) -> tuple[Fleet, PlanningInput]:
    """The sample province's divisions, `sites` sites on them, 6 platforms, 4 SKUs."""
    base = build_fleet(
        [d for d in load_documents([ROOT / "examples" / "guangdong"]) if d.kind == "Division"]
    )
    fleet = Fleet(divisions=dict(base.divisions))
    codes = sorted(fleet.divisions)
    province = [c for c in codes if level_of(c) is Level.PROVINCE]
    cities = [c for c in codes if level_of(c) is Level.CITY]
    counties = [c for c in codes if level_of(c) is Level.COUNTY]
    homes = province * 3 + cities[: sites // 3] + counties
    for i in range(sites):
        code = homes[i % len(homes)]
        name = f"site-{i:02d}"
        fleet.sites[name] = Site(
            name,
            code,
            "on-prem",
            power_price_cny_per_kwh=rng.uniform(0.45, 0.8),
            pue=rng.uniform(1.2, 1.8),
            free_server_slots=int(rng.choice([4, 10, 20, 40, 80]) * max(1.0, demands / 250)),
        )
        # province and city clusters are offered to lower levels; county rooms are their own
        fleet.clusters[name] = Cluster(name, name, 3, level_of(code) is not Level.COUNTY)
        scale = max(1.0, demands / 250)  # more demands, a bigger province
        nodes = int((40 if level_of(code) is Level.PROVINCE else rng.randint(2, 16)) * scale)
        for n in range(nodes):
            fleet.nodes[f"{name}-{n}"] = Node(
                f"{name}-{n}",
                name,
                "x86_64",
                "hygon-7380",
                Resources(128_000, 512 * GI),
                allocated=Resources(
                    int(128_000 * rng.uniform(0.9, 1.0)), int(512 * GI * rng.uniform(0.85, 1.0))
                ),
            )
    province_sites = [
        s for s in sorted(fleet.sites) if level_of(fleet.sites[s].division) is Level.PROVINCE
    ]
    platforms = {}
    for j, name in enumerate(["identity", "e-seal", "e-licence", "exchange", "portal", "video"]):
        platforms[name] = Platform(
            name,
            name,
            Amount(rng.choice([32, 64, 96]) * 1000, rng.choice([128, 256]) * GI),
            Amount(rng.choice([100, 250, 500]), rng.choice([1, 2]) * GI // 4),
            rng.uniform(1e6, 5e6),
            Level.CITY if j % 3 else Level.PROVINCE,
            (PlatformInstance(province_sites[j % len(province_sites)]),),
        )
    skus = {
        "intel": ServerSku(
            "intel", "x86_64", "intel-xeon-6330", False, Amount(112_000, 512 * GI), 98_000, 750
        ),
        "hygon": ServerSku(
            "hygon", "x86_64", "hygon-7380", True, Amount(128_000, 512 * GI), 112_000, 800, 0.9
        ),
        "kunpeng": ServerSku(
            "kunpeng", "aarch64", "kunpeng-920", True, Amount(128_000, 512 * GI), 105_000, 650, 0.85
        ),
        "phytium": ServerSku(
            "phytium", "aarch64", "phytium-s2500", True, Amount(64_000, 256 * GI), 76_000, 500, 0.7
        ),
    }
    wanted = {}
    for i in range(demands):
        code = rng.choice(cities + counties * 2)
        platform = rng.choice(sorted(platforms))
        wanted[f"d{i:04d}"] = Demand(
            f"d{i:04d}",
            code,
            platform,
            rng.uniform(2, 40),
            residency=code[:4] + "00" if rng.random() < 0.1 else None,
            latency_max_ms=rng.choice([None] * 8 + [5.0, 8.0]),
        )
    policy = PlanningPolicy("bench", 0.7, 0.5, 5, 0.2, "n+1")
    return fleet, PlanningInput(platforms, wanted, skus, policy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--demands", type=int, nargs="+", default=[100, 500, 2000])
    parser.add_argument("--sites", type=int, default=30)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--time-limit", type=float, help="solver limit (30 s; 120 s over 500)")
    args = parser.parse_args()
    print(machine())
    for count in args.demands:
        rng = random.Random(args.seed + count)
        fleet, planning = instance(count, args.sites, rng)
        started = time.perf_counter()
        problem = build_problem(fleet, planning)
        baseline = greedy(problem)
        built = time.perf_counter() - started
        limit = args.time_limit or (30.0 if count <= 500 else 120.0)
        goal = 0.01  # within 1 %: stop at half of it
        outcome = solve(problem, baseline, time_limit=limit, gap=goal / 2)
        plan_cost = cost(problem, outcome.solution).total
        base_cost = cost(problem, baseline).total
        unserved = sum(1 for a in outcome.solution.assign if a < 0) - len(problem.infeasible)
        options = sum(len(o) for o in problem.options)
        bad = violations(problem, outcome.solution)
        began = time.perf_counter()
        losses = analyse(problem, planning, outcome.solution)
        resilience_s = time.perf_counter() - began
        print(
            f"{count:>5} demands, {args.sites} sites, 4 SKUs ({options:,} options): "
            f"{outcome.status} in {outcome.seconds:.1f}s (+{built:.1f}s to build), "
            f"cost ¥{plan_cost / 1e6:,.2f}M, lower bound ¥{outcome.bound / 1e6:,.2f}M, "
            f"gap {outcome.gap:.2%}; greedy ¥{base_cost / 1e6:,.2f}M "
            f"({(base_cost - plan_cost) / base_cost:.1%} dearer, "
            f"{sum(1 for a in baseline.assign if a < 0) - len(problem.infeasible)} unserved); "
            f"{len(problem.infeasible)} infeasible, "
            f"{unserved} unserved; {sum(outcome.solution.purchases.values())} servers bought; "
            f"{'no violations' if not bad else bad[:3]}; resilience of {len(losses)} failure "
            f"domains over {len(fleet.nodes):,} nodes in {resilience_s:.1f}s",
            flush=True,
        )


if __name__ == "__main__":
    main()
