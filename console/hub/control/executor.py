"""The executor's assembly: a hub's reconcile loop, when a kubeconfig is given and some
cluster of the fleet names a kubeContext, with its failover state in the store when the store
keeps one (fenced by the leader's term on a shared store)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from console.executor.config import ExecutorConfig
from console.hub.control.workloads import WorkloadManager
from console.hub.fleet.inventory import Inventory
from console.hub.metrics import HubMetrics
from console.model.fleet import Fleet
from console.store.base import InventoryStore
from console.store.open import tables_of
from console.store.postgres import PostgresStore
from console.store.sqlite import SqliteStore

if TYPE_CHECKING:  # the Kubernetes client loads only when the executor is on
    from console.hub.control.reconcile import Reconciler

log = logging.getLogger("tongchou.hub.executor")


def reconciler_for(
    config: ExecutorConfig | None,
    store: InventoryStore,
    workloads: WorkloadManager,
    inventory: Inventory,
    fleet: Fleet,
    metrics: HubMetrics,
) -> Reconciler | None:
    """The reconciler, or None when the executor is off."""
    if config is None:
        return None
    if not any(c.kube_context for c in fleet.clusters.values()):
        log.warning("--kubeconfig given but no cluster has a kubeContext: executor off")
        return None
    from console.hub.control.reconcile import Reconciler
    from console.store.executor_state import ExecutorState

    state = None
    if isinstance(store, SqliteStore | PostgresStore):
        state = ExecutorState(tables_of(store))
    if state is not None and isinstance(store, PostgresStore):
        shared = store
        state.fence = lambda: shared.fence_term  # only the leader writes failover state
    reconciler = Reconciler(config, workloads, inventory, fleet, metrics, state)
    log.info(
        "executor on for %d clusters (kubeconfig %s)", len(reconciler.targets), config.kubeconfig
    )
    return reconciler
