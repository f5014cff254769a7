"""Places 1,000 workloads on 10,000 nodes in 200 clusters under the default policies plus
five more; prints workloads/s and p50/p99 latency, with explanations off and on."""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine, quantile
from console.documents import load_documents, load_text, policies_of
from console.model.fleet import Cluster, Fleet, Node, Resources, Site
from console.model.workload import DataClass, PlacementPolicy, Workload
from console.scheduler import Scheduler

EXTRA_POLICIES = """
apiVersion: tongchou.io/v1
kind: PlacementPolicy
metadata: {name: no-tiny-clusters}
spec: {require: cluster.nodes >= 3, message: fewer than 3 nodes}
---
apiVersion: tongchou.io/v1
kind: PlacementPolicy
metadata: {name: important-on-level-3}
spec:
  match: workload.priority >= 500
  require: cluster.mlpsLevel >= 3
  message: important workloads stay on level-3 clusters
---
apiVersion: tongchou.io/v1
kind: PlacementPolicy
metadata: {name: prefer-vendor-clouds}
spec:
  match: workload.dataClass == "interactive"
  prefer: 'site.provider == "on-prem" ? 0.0 : 1.0'
  message: interactive work prefers vendor clouds
---
apiVersion: tongchou.io/v1
kind: PlacementPolicy
metadata: {name: at-most-half-per-cluster}
spec:
  match: workload.replicas >= 4
  limit: workload.replicas / 2
  message: no cluster takes more than half of the replicas
---
apiVersion: tongchou.io/v1
kind: PlacementPolicy
metadata: {name: prefer-room}
spec:
  prefer: double(fit)
  weight: 0.5
  message: clusters with room for more replicas
"""

ARCHS = [("x86_64", "hygon-7380"), ("x86_64", "intel-xeon-6330"), ("aarch64", "kunpeng-920"),
         ("aarch64", "phytium-s2500"), ("loongarch64", "loongson-3c5000")]  # fmt: skip


def build_fleet(clusters: int, nodes_per_cluster: int, rng: random.Random) -> Fleet:
    """The sample province's divisions, with `clusters` clusters spread over its sites."""
    sample = load_documents([ROOT / "examples" / "guangdong"])
    divisions = {d.name: d for d in sample if d.kind == "Division"}
    from console.documents import build_fleet as to_fleet

    base = to_fleet(list(divisions.values()))
    fleet = Fleet(divisions=dict(base.divisions))
    codes = sorted(c for c in fleet.divisions if len(c) == 6)
    for s in range(clusters // 2):
        code = codes[s % len(codes)]
        fleet.sites[f"site-{s:03d}"] = Site(
            f"site-{s:03d}",
            code,
            rng.choice(["tianyi-cloud", "huawei-cloud", "on-prem"]),
            power_price_cny_per_kwh=rng.uniform(0.45, 0.8),
            pue=rng.uniform(1.2, 1.8),
        )
    sites = sorted(fleet.sites)
    for c in range(clusters):
        name = f"cluster-{c:03d}"
        fleet.clusters[name] = Cluster(
            name, sites[c % len(sites)], rng.choice([2, 3, 3, 3, 4]), rng.random() < 0.6
        )
        for n in range(nodes_per_cluster):
            arch, chip = ARCHS[(c + n // 20) % len(ARCHS)]
            cores = rng.choice([64, 96, 128])
            fleet.nodes[f"{name}-n{n:03d}"] = Node(
                f"{name}-n{n:03d}",
                name,
                arch,
                chip,
                Resources(cores * 1000, cores * 4 * 2**30),
                allocated=Resources(
                    int(cores * 1000 * rng.uniform(0, 0.5)), int(cores * 2**30 * rng.uniform(0, 2))
                ),
            )
    return fleet


def workloads(fleet: Fleet, count: int, rng: random.Random) -> list[Workload]:
    owners = sorted(fleet.divisions)
    out = []
    for i in range(count):
        archs = rng.choice([(), (), ("x86_64",), ("aarch64",), ("x86_64", "aarch64")])
        owner = rng.choice(owners)
        out.append(
            Workload(
                name=f"w{i:04d}",
                owner=owner,
                replicas=rng.randint(1, 10),
                cpu_milli=rng.choice([500, 1000, 2000, 4000, 8000]),
                memory_bytes=rng.choice([1, 2, 4, 8, 16, 32]) * 2**30,
                image="registry.example/app:1",
                mlps_level=rng.choice([2, 2, 3, 3, 3]),
                archs=archs,
                residency=owner[:4] + "00" if rng.random() < 0.2 and len(owner) == 6 else None,
                min_sites=rng.choice([1, 1, 2, 3]),
                priority=rng.choice([0, 100, 500, 900]),
                data_class=rng.choice(list(DataClass)),
            )
        )
    return out


def run(fleet: Fleet, policies: list[PlacementPolicy], todo: list[Workload], explain: bool) -> str:
    scheduler = Scheduler(fleet, policies)
    latencies = []
    started = time.perf_counter()
    results = []
    for w in sorted(todo, key=lambda w: (-w.priority, w.name)):
        t0 = time.perf_counter()
        results.append(scheduler.place(w, explain=explain))
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    latencies.sort()
    placed = sum(r.placed_total for r in results)
    wanted = sum(r.replicas for r in results)
    p50, p99 = quantile(latencies, 0.5) * 1000, quantile(latencies, 0.99) * 1000
    return (
        f"explain {'on ' if explain else 'off'}: {len(todo) / elapsed:7.0f} workloads/s, "
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
        f"max {latencies[-1] * 1000:.2f} ms; {placed}/{wanted} replicas placed; "
        f"{scheduler.evaluations:,} CEL evaluations"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clusters", type=int, default=200)
    parser.add_argument("--nodes-per-cluster", type=int, default=50)
    parser.add_argument("--workloads", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    fleet = build_fleet(args.clusters, args.nodes_per_cluster, rng)
    policies = policies_of(load_documents([ROOT / "policies"])) + policies_of(
        load_text(EXTRA_POLICIES, "bench policies")
    )
    todo = workloads(fleet, args.workloads, rng)
    print(machine())
    print(
        f"{len(fleet.nodes):,} nodes in {len(fleet.clusters)} clusters, {len(policies)} policies, "
        f"{len(todo):,} workloads, one core"
    )
    for explain in (False, True):
        print(run(fleet, policies, todo, explain), flush=True)


if __name__ == "__main__":
    main()
