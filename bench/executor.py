"""Applies N workloads to two emulated clusters (kmock over loopback, the official client):
first apply, a no-op apply, and a move of every workload; prints seconds and API calls.
Needs the dev extra (kmock)."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine
from console.executor.apply import ApplyResult, apply_cluster
from console.executor.kube import Target, connect
from console.executor.manifests import PlacedWorkload, desired_objects
from console.model.workload import Workload
from tests.executor.emulator import EmulatedCluster, write_kubeconfig

OWNERS = ("440000", "440100", "440300", "441400", "441800")


def workloads(count: int) -> list[Workload]:
    out = []
    for i in range(count):
        workload = Workload(
            name=f"platform-{i:04d}", owner=OWNERS[i % len(OWNERS)], replicas=4,
            cpu_milli=500 * (1 + i % 4), memory_bytes=(1 + i % 8) * 1024**3,
            image=f"registry.gd.gov.cn/platform-{i:04d}:1.0", mlps_level=3,
            archs=("x86_64", "aarch64") if i % 2 else ("aarch64",),
        )  # fmt: skip
        out.append(workload)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workloads", type=int, default=200)
    args = parser.parse_args()
    clusters = {n: EmulatedCluster(n) for n in ("gz-a", "sz-b")}
    for cluster in clusters.values():
        cluster.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            kubeconfig = write_kubeconfig(
                Path(tmp) / "kubeconfig", {n: c.url for n, c in clusters.items()}
            )
            apis = {n: connect(Target(n, n, kubeconfig)) for n in clusters}
            loads = workloads(args.workloads)
            split = [PlacedWorkload(w, {"gz-a": 2, "sz-b": 2}, 1) for w in loads]
            moved = [PlacedWorkload(w, {"gz-a": 4}, 2) for w in loads]
            print(machine())
            for label, items in (("first apply", split), ("no-op apply", split),
                                 ("move all to gz-a", moved)):  # fmt: skip
                wanted = desired_objects(items, clusters)
                before = sum(len(list(c.handler)) for c in clusters.values())
                started = time.perf_counter()
                results: list[ApplyResult] = [
                    apply_cluster(n, apis[n], wanted[n]) for n in clusters
                ]
                seconds = time.perf_counter() - started
                calls = sum(len(list(c.handler)) for c in clusters.values()) - before
                writes = sum(len(r.created) + len(r.updated) + len(r.deleted) for r in results)
                assert all(r.error is None for r in results)
                print(
                    f"{label:<18} {len(loads)} workloads, {sum(map(len, wanted.values()))} "
                    f"objects wanted: {seconds:6.2f} s, {calls} API calls, {writes} writes"
                )
    finally:
        for cluster in clusters.values():
            cluster.close()


if __name__ == "__main__":
    main()
