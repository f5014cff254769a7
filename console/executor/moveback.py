"""Make-before-break move-back, as plain state: a few workloads at a time, old replicas kept
until the new ones are ready.

When a recovered cluster gets its workloads back (`--move-back always`), each workload is
placed again from scratch; until every cluster that gains replicas reports them ready, the
clusters that lose replicas keep running their old count (the applied replicas are the
larger of the old and the new placement, cluster by cluster). At most `cap` workloads move
at once; the others wait their turn in order. A move whose new replicas never become ready
keeps the old ones running, and says so, rather than leaving fewer replicas than wanted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from console.model.replicas import Replicas


@dataclass(slots=True)
class MoveBacks:
    cap: int = 2
    queued: list[str] = field(default_factory=list)
    moves: dict[str, Replicas] = field(default_factory=dict)  # workload → old placement

    def __post_init__(self) -> None:
        if self.cap < 1:
            raise ValueError(f"--move-back-concurrency must be at least 1, got {self.cap}")

    def enqueue(self, names: Iterable[str]) -> None:
        for name in sorted(names):
            if name not in self.queued and name not in self.moves:
                self.queued.append(name)

    def due(self) -> list[str]:
        """The queued workloads that may start moving now (taken off the queue)."""
        room = max(0, self.cap - len(self.moves))
        out, self.queued = self.queued[:room], self.queued[room:]
        return out

    def begin(self, name: str, old: Mapping[str, int], new: Mapping[str, int]) -> bool:
        """Records a move from `old` to `new`; whether there is anything to wait for."""
        if old == new or not old:
            return False
        self.moves[name] = Replicas(old)
        return True

    def applied(self, name: str, placed: Mapping[str, int]) -> Replicas:
        """The replicas to apply per cluster: the new placement, and while the workload is
        moving, no fewer than it had before anywhere."""
        return Replicas(placed).at_least(self.moves.get(name, Replicas()))

    def finish(
        self,
        placed_of: Callable[[str], Mapping[str, int] | None],
        ready_of: Callable[[str, str], int | None],
    ) -> list[str]:
        """Ends the moves whose gaining clusters report every new replica ready (or whose
        workload is gone); returns their names."""
        done = []
        for name, old in list(self.moves.items()):
            placed = placed_of(name)
            if placed is not None:
                gaining = {c: n for c, n in placed.items() if n > old.get(c, 0)}
                if any((ready_of(c, name) or 0) < n for c, n in gaining.items()):
                    continue
            del self.moves[name]
            done.append(name)
        return done
