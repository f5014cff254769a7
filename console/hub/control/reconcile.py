"""The hub's reconcile loop: applies placements to each cluster, reads readiness back, and
fails replicas over when a cluster is lost (rules in `console.executor.failover`).

Kubernetes calls run on worker threads, at most `workers` clusters at once; the loop itself,
the workload manager and the inventory stay on the event loop. A cluster whose API fails is
tried again after an exponential backoff (up to `max_backoff`), so a dead API server costs a
request now and then, not one per pass.
"""

from __future__ import annotations

import asyncio
import logging
import time

from console.executor.apply import ApplyResult, apply_cluster
from console.executor.config import ExecutorConfig
from console.executor.failover import HealthTracker, MoveBack, Transition
from console.executor.kube import ApiClient, ClusterError, Target, classify, connect
from console.executor.manifests import Manifest, PlacedWorkload, desired_objects
from console.executor.ratelimit import RateLimiter
from console.hub.control.workloads import WorkloadManager
from console.hub.fleet.inventory import Inventory
from console.hub.loops import every
from console.hub.metrics import HubMetrics
from console.model.fleet import Fleet
from console.model.inventory import Event, NodeState

log = logging.getLogger("tongchou.hub.executor")


class Reconciler:
    """Owns the clusters' Kubernetes side. `reconcile()` is one pass; `run()` loops."""

    def __init__(
        self,
        config: ExecutorConfig,
        manager: WorkloadManager,
        inventory: Inventory,
        fleet: Fleet,
        metrics: HubMetrics,
    ) -> None:
        self.config = config
        self.manager = manager
        self.inventory = inventory
        self.fleet = fleet
        self.metrics = metrics
        self.targets = {
            c.name: Target(c.name, c.kube_context, config.kubeconfig)
            for c in sorted(fleet.clusters.values(), key=lambda c: c.name)
            if c.kube_context
        }
        self.tracker = HealthTracker(config.policy)
        self.ready: dict[str, dict[str, int]] = {}  # cluster → workload → ready replicas
        self.last: dict[str, ApplyResult] = {}
        self.displaced: dict[str, set[str]] = {}  # cluster → workloads failover moved off it
        self.passes = 0
        self._clients: dict[str, ApiClient] = {}
        self._next_try: dict[str, float] = {}
        self._slots = asyncio.Semaphore(max(1, config.workers))
        self._limits = {
            name: RateLimiter(config.api_qps, config.api_burst) for name in self.targets
        }
        for name in self.targets:
            self.tracker.health(name)

    # -- what the API and metrics read ---------------------------------------------------

    def ready_of(self, cluster: str, workload: str) -> int | None:
        if cluster not in self.targets or cluster not in self.ready:
            return None
        return self.ready[cluster].get(workload, 0)

    def health_of(self, cluster: str) -> str:
        h = self.tracker.clusters.get(cluster)
        if h is None:
            return ""
        if cluster not in self.targets:
            return h.describe() if not h.available else "available (no kubeContext)"
        last = self.last.get(cluster)
        if last is not None and last.error is not None and last.error.kind == "config":
            return f"not applied: {last.error.message}"
        return h.describe()

    def available(self) -> dict[str, bool]:
        return {n: h.available for n, h in sorted(self.tracker.clusters.items())}

    # -- the loop ------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        await every(stop, self.config.interval, self._pass)

    async def _pass(self) -> None:
        try:
            await self.reconcile()
        except Exception:  # one bad pass must not end the loop
            log.exception("reconcile pass failed")

    async def reconcile(self, now: float | None = None) -> None:
        """Observes agents, applies to every due cluster, then fails over what must move."""
        now = time.time() if now is None else now
        self._observe_agents(now)
        items = [
            PlacedWorkload(r.workload, dict(r.placed), r.generation)
            for r in self.manager.records.values()
        ]
        wanted = desired_objects(items, self.targets)
        due = [c for c in self.targets if self._next_try.get(c, 0.0) <= now]
        results = await asyncio.gather(*(self._apply(c, wanted[c]) for c in due))
        for result in results:
            self._take(result, time.time())
        self._failover(self.tracker.evaluate(time.time()))
        self.passes += 1

    def _observe_agents(self, now: float) -> None:
        known: dict[str, int] = {}
        live: dict[str, int] = {}
        for entry in self.inventory.nodes.values():
            cluster = entry.report.identity.cluster
            known[cluster] = known.get(cluster, 0) + 1
            if entry.state is not NodeState.LOST:
                live[cluster] = live.get(cluster, 0) + 1
        for cluster in set(known) | set(self.tracker.clusters):
            self.tracker.observe_agents(
                cluster, known=known.get(cluster, 0), live=live.get(cluster, 0), now=now
            )

    async def _apply(self, cluster: str, objects: list[Manifest]) -> ApplyResult:
        async with self._slots:
            try:
                return await asyncio.to_thread(self._apply_blocking, cluster, objects)
            except Exception as err:  # never let one cluster end the others' pass
                return ApplyResult(cluster, error=classify(err))

    def _apply_blocking(self, cluster: str, objects: list[Manifest]) -> ApplyResult:
        api = self._clients.get(cluster)
        if api is None:
            try:
                api = connect(self.targets[cluster])
            except ClusterError as err:
                return ApplyResult(cluster, error=err)
            self._clients[cluster] = api
        return apply_cluster(cluster, api, objects, self._limits[cluster])

    def _take(self, result: ApplyResult, now: float) -> None:
        cluster = result.cluster
        before = self.last.get(cluster)
        self.last[cluster] = result
        if result.error is None:
            self.tracker.observe_api(cluster, ok=True)
            self.ready[cluster] = dict(result.ready)
            self._next_try.pop(cluster, None)
            if before is not None and before.error is not None:
                log.info("cluster %s: Kubernetes API answers again", cluster)
            if result.changed:
                log.info("cluster %s: %s", cluster, result.summary())
            for refused in result.refused:
                if before is None or refused not in before.refused:
                    log.warning("cluster %s: %s", cluster, refused)
            return
        err = result.error
        if err.kind == "config":
            # a kubeconfig the user must fix says nothing about the cluster: no failover
            self.ready.pop(cluster, None)
            failures = 1
        else:
            self.tracker.observe_api(cluster, ok=False, error=f"{err.kind}: {err.message}")
            failures = self.tracker.health(cluster).api_failures
        delay = min(self.config.max_backoff, self.config.interval * 2 ** (failures - 1))
        self._next_try[cluster] = now + delay
        if err.kind in ("unreachable", "config"):
            self._clients.pop(cluster, None)
        if before is None or before.error is None or before.error.message != err.message:
            log.warning("cluster %s: %s (next try in %.0fs)", cluster, err.message, delay)

    # -- failover ------------------------------------------------------------------------

    def _failover(self, transitions: list[Transition]) -> None:
        if not transitions:
            return
        now = time.time()
        back: set[str] = set()
        for t in transitions:
            if not t.available:
                moving = {
                    name: r.placed[t.cluster]
                    for name, r in self.manager.records.items()
                    if r.placed.get(t.cluster)
                }
                self.displaced.setdefault(t.cluster, set()).update(moving)
                self.manager.unavailable[t.cluster] = t.reason
                self.metrics.failovers.labels(t.cluster).inc()
                text = (
                    f"cluster unavailable: {t.reason}; {sum(moving.values())} replicas of "
                    f"{len(moving)} workloads to place elsewhere"
                )
                self.inventory.record(Event(now, "failover", t.cluster, text))
                log.warning("failover of cluster %s: %s", t.cluster, text)
            else:
                self.manager.unavailable.pop(t.cluster, None)
                returning = self.displaced.pop(t.cluster, set())
                policy = self.config.policy.move_back
                if policy is MoveBack.ALWAYS:
                    back |= {n for n in returning if n in self.manager.records}
                text = f"cluster available again ({t.reason}); move-back policy: {policy.value}"
                if back:
                    text += f", placing {len(back)} workloads again"
                self.inventory.record(Event(now, "recovered", t.cluster, text))
                log.info("cluster %s: %s", t.cluster, text)
        changed = self.manager.schedule(force=back, now=now)
        if back:
            self.manager.store.save_placements(
                [r.stored() for r in changed if r.workload.name in back]
            )
        if changed:
            log.info("failover placed replicas of %d workloads", len(changed))
