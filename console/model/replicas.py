"""Replicas of one workload per cluster: the one type from the scheduler's placement through
the hub's record and the store's row to the executor; `console/hub/api/messages.py` turns it
into the wire's `ClusterReplicas`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping


class Replicas(Mapping[str, int]):
    """Cluster name → replicas there (never 0 or fewer), read-only. Equal to any mapping with
    the same counts; clusters keep the order they were given in."""

    __slots__ = ("_counts",)

    def __init__(self, counts: Mapping[str, int] | Iterable[tuple[str, int]] = ()) -> None:
        pairs = counts.items() if isinstance(counts, Mapping) else counts
        kept: dict[str, int] = {}
        for cluster, replicas in pairs:
            if replicas < 0:
                raise ValueError(f"replicas in cluster {cluster}: {replicas} is below 0")
            if replicas:
                kept[cluster] = kept.get(cluster, 0) + int(replicas)
        self._counts = kept

    def __getitem__(self, cluster: str) -> int:
        return self._counts[cluster]

    def __iter__(self) -> Iterator[str]:
        return iter(self._counts)

    def __len__(self) -> int:
        return len(self._counts)

    def __hash__(self) -> int:
        return hash(frozenset(self._counts.items()))

    def __repr__(self) -> str:
        return repr(self._counts)  # as the dict it stands for: events and logs quote it

    @property
    def total(self) -> int:
        """Replicas in every cluster together."""
        return sum(self._counts.values())

    def plus(self, more: Mapping[str, int]) -> Replicas:
        """These replicas and `more`, added cluster by cluster."""
        return Replicas([*self._counts.items(), *more.items()])

    def at_least(self, floor: Mapping[str, int]) -> Replicas:
        """In every cluster, no fewer than `floor` has there."""
        out = dict(self._counts)
        for cluster, replicas in floor.items():
            out[cluster] = max(out.get(cluster, 0), replicas)
        return Replicas(out)

    def to_json(self) -> str:
        """The store's form: a JSON object, clusters in name order."""
        return json.dumps(self._counts, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> Replicas:
        """What `to_json` wrote (empty text or None: no replicas); ValueError for anything
        that is not an object of cluster names to counts."""
        value = json.loads(text) if text else {}
        if not isinstance(value, dict) or not all(
            isinstance(c, str) and isinstance(n, int) and not isinstance(n, bool)
            for c, n in value.items()
        ):
            raise ValueError(f"not replicas per cluster: {text!r}")
        return cls(value)
