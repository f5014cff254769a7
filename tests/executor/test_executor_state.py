"""The executor's state in the store file: identity, failover and move-back survive a reopen."""

from __future__ import annotations

from pathlib import Path

from console.model.replicas import Replicas
from console.store import SqliteStore
from console.store.executor_state import ClusterFailover, ExecutorState


def test_identity_failover_and_moves_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    SqliteStore(path).close()
    first = ExecutorState(path)
    identity = first.identity()
    assert identity.startswith("hub-") and len(identity) == 20
    first.save([ClusterFailover("sz-b", False, "all agents lost for 61s", 100.0,
                                frozenset({"gd-e-seal", "gd-portal"}))])  # fmt: skip
    first.save_moves(["gd-portal"], {"gd-e-seal": Replicas({"gz-a": 6})})
    first.close()
    again = ExecutorState(path)
    assert again.identity() == identity
    (row,) = again.load()
    assert (row.cluster, row.available, row.displaced) == (
        "sz-b", False, frozenset({"gd-e-seal", "gd-portal"}),
    )  # fmt: skip
    assert again.load_moves() == (["gd-portal"], {"gd-e-seal": Replicas({"gz-a": 6})})
    # available again with nothing displaced: the row goes
    again.save([ClusterFailover("sz-b", True, "healthy for 120s", 200.0)])
    assert again.load() == []
    again.save_moves([], {})
    assert again.load_moves() == ([], {})
    # another store is another identity
    assert ExecutorState(tmp_path / "other.db").identity() != identity
