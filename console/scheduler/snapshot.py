"""The fleet as arrays: free resources per node, totals per cluster, and their CEL views."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from console.model.fleet import Fleet
from console.policy.cel import activation
from tongchou.divisions import ancestors, level_of
from tongchou.v1 import policy_pb2

IntArray = npt.NDArray[np.int64]


class Snapshot:
    """Clusters in name order; nodes sorted by cluster, then name. Mutated as replicas land.

    `allocated` counts what the fleet documents (or the live inventory) say is in use plus
    what this snapshot's placements added; `version[c]` grows whenever cluster c changes, so
    cached policy results for it can be told stale.
    """

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.clusters: list[str] = sorted(fleet.clusters)
        self.index = {name: i for i, name in enumerate(self.clusters)}
        count = len(self.clusters)
        nodes = sorted(fleet.nodes.values(), key=lambda n: (self.index[n.cluster], n.name))
        self.node_names = [n.name for n in nodes]
        self.node_cluster: IntArray = np.array([self.index[n.cluster] for n in nodes], np.int64)
        self.free_cpu: IntArray = np.array(
            [max(0, n.capacity.cpu_milli - n.allocated.cpu_milli) for n in nodes], np.int64
        )
        self.free_memory: IntArray = np.array(
            [max(0, n.capacity.memory_bytes - n.allocated.memory_bytes) for n in nodes], np.int64
        )
        self.archs = sorted({n.arch for n in nodes})
        self.chips = sorted({n.chip for n in nodes})
        self.node_arch: IntArray = np.array([self.archs.index(n.arch) for n in nodes], np.int64)
        chip_index = {c: i for i, c in enumerate(self.chips)}
        self.node_chip: IntArray = np.array([chip_index[n.chip] for n in nodes], np.int64)

        def per_cluster(values: list[int]) -> IntArray:
            return np.bincount(
                self.node_cluster, weights=np.array(values, np.float64), minlength=count
            ).astype(np.int64)

        self.capacity_cpu = per_cluster([n.capacity.cpu_milli for n in nodes])
        self.capacity_memory = per_cluster([n.capacity.memory_bytes for n in nodes])
        self.allocated_cpu = per_cluster([n.allocated.cpu_milli for n in nodes])
        self.allocated_memory = per_cluster([n.allocated.memory_bytes for n in nodes])
        self.version: IntArray = np.zeros(count, np.int64)
        self.node_counts: IntArray = np.bincount(self.node_cluster, minlength=count)
        ends = np.cumsum(self.node_counts).tolist()
        self.ranges: list[tuple[int, int]] = [
            (end - int(n), end) for end, n in zip(ends, self.node_counts.tolist(), strict=True)
        ]
        self.sites = [fleet.clusters[c].site for c in self.clusters]
        self._messages = [self._cluster_message(i) for i in range(count)]
        self._site_messages = [self._site_message(s) for s in self.sites]
        self._division_messages = [self._division_message(s) for s in self.sites]
        self._groups: dict[object, tuple[IntArray, list[int]]] = {}
        self._mask_cache: dict[tuple[tuple[str, ...], tuple[str, ...]], npt.NDArray[np.bool_]] = {}

    def _cluster_message(self, i: int) -> policy_pb2.PolicyCluster:
        cluster = self.fleet.clusters[self.clusters[i]]
        in_cluster = self.node_cluster == i
        return policy_pb2.PolicyCluster(
            name=cluster.name,
            site=cluster.site,
            mlpsLevel=cluster.mlps_level,
            shared=cluster.shared,
            archs=sorted({self.archs[a] for a in self.node_arch[in_cluster]}),
            chips=sorted({self.chips[c] for c in self.node_chip[in_cluster]}),
            nodes=int(in_cluster.sum()),
            cpuAllocatable=self.capacity_cpu[i] / 1000,
            cpuAllocated=self.allocated_cpu[i] / 1000,
            memoryAllocatable=int(self.capacity_memory[i]),
            memoryAllocated=int(self.allocated_memory[i]),
        )

    def _site_message(self, name: str) -> policy_pb2.PolicySite:
        site = self.fleet.sites[name]
        return policy_pb2.PolicySite(
            name=site.name,
            division=site.division,
            provider=site.provider,
            computeHub=site.compute_hub or "",
            powerPriceCnyPerKwh=site.power_price_cny_per_kwh,
            pue=site.pue,
            freeServerSlots=site.free_server_slots,
        )

    def _division_message(self, site: str) -> policy_pb2.PolicyDivision:
        code = self.fleet.sites[site].division
        division = self.fleet.divisions.get(code)
        return policy_pb2.PolicyDivision(
            code=code,
            name=division.name if division else "",
            level=level_of(code).value,
            parent=(division.parent or "") if division else "",
            ancestors=list(ancestors(code)),
        )

    def groups(self, fields: frozenset[tuple[str, str]] | None) -> tuple[IntArray, list[int]]:
        """Clusters alike in the given (variable, field) values: a group id per cluster, and
        one representative cluster per group. Every cluster is its own group for None."""
        key = fields
        cached = self._groups.get(key)
        if cached is not None:
            return cached
        count = len(self.clusters)
        if fields is None:
            result = (np.arange(count, dtype=np.int64), list(range(count)))
        else:
            ordered = sorted(fields)
            seen: dict[tuple[object, ...], int] = {}
            ids = np.empty(count, np.int64)
            representatives: list[int] = []
            for i in range(count):
                bound = self.bindings(i)
                signature = tuple(_plain(getattr(bound[var], name)) for var, name in ordered)
                group = seen.setdefault(signature, len(seen))
                if group == len(representatives):
                    representatives.append(i)
                ids[i] = group
            result = (ids, representatives)
        self._groups[key] = result
        return result

    def bindings(self, i: int) -> Mapping[str, object]:
        """The cluster-side CEL variables of cluster i."""
        return {
            "cluster": self._messages[i],
            "site": self._site_messages[i],
            "division": self._division_messages[i],
        }

    def activation(self, i: int, workload: policy_pb2.PolicyWorkload, fit: int = 0) -> object:
        return activation({**self.bindings(i), "workload": workload, "fit": fit})

    def node_mask(self, archs: tuple[str, ...], chips: tuple[str, ...]) -> npt.NDArray[np.bool_]:
        """Nodes a workload with these allowed archs and chips may use."""
        key = (archs, chips)
        mask = self._mask_cache.get(key)
        if mask is None:
            mask = np.ones(len(self.node_names), np.bool_)
            if archs:
                mask &= np.isin(
                    self.node_arch, [self.archs.index(a) for a in archs if a in self.archs]
                )
            if chips:
                mask &= np.isin(
                    self.node_chip, [self.chips.index(c) for c in chips if c in self.chips]
                )
            self._mask_cache[key] = mask
        return mask

    def per_node_fit(
        self, cpu: int, memory: int, mask: npt.NDArray[np.bool_]
    ) -> tuple[IntArray, IntArray, IntArray]:
        """Replicas of (cpu, memory) each node can take: overall, by CPU alone, by memory alone."""
        by_cpu = np.where(mask, self.free_cpu // max(cpu, 1), 0)
        by_memory = np.where(mask, self.free_memory // max(memory, 1), 0)
        return np.minimum(by_cpu, by_memory), by_cpu, by_memory

    def sum_by_cluster(self, per_node: IntArray) -> IntArray:
        return np.bincount(
            self.node_cluster, weights=per_node.astype(np.float64), minlength=len(self.clusters)
        ).astype(np.int64)

    def commit(
        self, cluster: int, replicas: int, cpu: int, memory: int, mask: npt.NDArray[np.bool_]
    ) -> None:
        """Puts `replicas` on the cluster's allowed nodes; raises if they do not fit."""
        placed = self.reserve(cluster, replicas, cpu, memory, mask)
        if placed < replicas:
            name = self.clusters[cluster]
            raise ValueError(f"cluster {name} had room for {placed} replicas, not {replicas}")

    def reserve(
        self, cluster: int, replicas: int, cpu: int, memory: int, mask: npt.NDArray[np.bool_]
    ) -> int:
        """Puts up to `replicas` on the cluster's allowed nodes, first fit in name order;
        returns how many found room (all of them, unless the cluster shrank)."""
        lo, hi = self.ranges[cluster]
        fits = np.minimum(
            self.free_cpu[lo:hi] // max(cpu, 1), self.free_memory[lo:hi] // max(memory, 1)
        )
        fits = np.where(mask[lo:hi], fits, 0)
        before = np.cumsum(fits) - fits
        take = np.minimum(np.maximum(replicas - before, 0), fits)
        placed = int(take.sum())
        self.free_cpu[lo:hi] -= take * cpu
        self.free_memory[lo:hi] -= take * memory
        self.allocated_cpu[cluster] += placed * cpu
        self.allocated_memory[cluster] += placed * memory
        self.version[cluster] += 1
        message = self._messages[cluster]
        message.cpuAllocated = self.allocated_cpu[cluster] / 1000
        message.memoryAllocated = int(self.allocated_memory[cluster])
        return placed


def _plain(value: Any) -> object:
    """A hashable form of a message field's value."""
    if isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "items"):
        return tuple(sorted(value.items()))
    if hasattr(value, "SerializeToString"):
        return value.SerializeToString(deterministic=True)
    return tuple(value)
