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
import secrets
import time

from console.executor.apply import ApplyResult, Ownership, apply_cluster
from console.executor.config import ExecutorConfig
from console.executor.failover import HealthTracker, MoveBack, Transition
from console.executor.kube import ApiClient, ClusterError, Target, classify, connect
from console.executor.manifests import Manifest, PlacedWorkload, Style, desired_objects
from console.executor.moveback import MoveBacks
from console.executor.ratelimit import RateLimiter
from console.hub.control.workloads import WorkloadManager
from console.hub.fleet.inventory import Inventory
from console.hub.loops import every
from console.hub.metrics import ExecutorMetrics, HubMetrics
from console.model.fleet import Fleet
from console.model.inventory import Event, NodeState
from console.model.replicas import Replicas
from console.store.executor_state import ClusterFailover, ExecutorState, Moves

log = logging.getLogger("tongchou.hub.executor")


class Reconciler:
    """Owns the clusters' Kubernetes side. `tick()` starts a pass for every cluster that is
    due and not already in one; each cluster's pass runs on its own, so a slow API server
    delays only its own cluster; `run()` ticks every interval."""

    def __init__(
        self,
        config: ExecutorConfig,
        manager: WorkloadManager,
        inventory: Inventory,
        fleet: Fleet,
        metrics: HubMetrics,
        state: ExecutorState | None = None,
    ) -> None:
        self.config = config
        self.manager = manager
        self.inventory = inventory
        self.fleet = fleet
        self.metrics = metrics
        self.executor_metrics = ExecutorMetrics(metrics.registry)
        self.state = state
        self.targets = {
            c.name: Target(c.name, c.kube_context, config.kubeconfig)
            for c in sorted(fleet.clusters.values(), key=lambda c: c.name)
            if c.kube_context
        }
        self.tracker = HealthTracker(config.policy)
        self.ready: dict[str, dict[str, int]] = {}  # cluster → workload → ready replicas
        self.last: dict[str, ApplyResult] = {}
        self.displaced: dict[str, set[str]] = {}  # cluster → workloads failover moved off it
        self.movebacks = MoveBacks(config.move_back_concurrency)
        self._moves_saved = self._moves_now()
        self.passes = 0
        self.started = time.time()
        self._clients: dict[str, ApiClient] = {}
        self._next_try: dict[str, float] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(max(1, config.workers))
        self._limits = {n: RateLimiter(config.api_qps, config.api_burst) for n in self.targets}
        for name in self.targets:
            self.tracker.health(name)
        if state is not None:
            self.identity = state.identity()
            self._restore(*state.load_all())
        else:
            self.identity = f"hub-{secrets.token_hex(8)}"
            log.warning(
                "the store keeps no executor state: identity %s lasts until the hub stops",
                self.identity,
            )
        self.ownership = Ownership(self.identity, config.adopt)

    def _restore(self, rows: list[ClusterFailover], moves: Moves) -> None:
        """Failover as it was before a restart (or as the leader before this replica left it):
        clusters still out stay out (and must be healthy for --recover-after again), move-back
        knows what left each, and the moves under way keep their old replicas until the new
        ones are ready."""
        out = {row.cluster for row in rows if not row.available}
        for name, h in self.tracker.clusters.items():  # what an earlier term here believed
            if name not in out and not h.available:
                h.available, h.reason, h.healthy_since = True, "", None
                self.manager.unavailable.pop(name, None)
        self.displaced = {}
        for row in rows:
            h = self.tracker.health(row.cluster)
            if not row.available:
                h.available, h.reason = False, row.reason
                self.manager.unavailable[row.cluster] = row.reason
            if row.displaced:
                self.displaced[row.cluster] = set(row.displaced)
        self.movebacks.queued, self.movebacks.moves = moves
        self._moves_saved = self._moves_now()
        if rows:
            unavailable = ", ".join(sorted(out)) or "none"
            log.info("failover restored from the store: unavailable %s", unavailable)

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
        if self.state is not None:  # a replica taking the lead goes on from its predecessor
            self._restore(*await asyncio.to_thread(self.state.load_all))
        try:
            await every(stop, self.config.interval, self._tick)
        finally:
            for task in list(self._running.values()):
                task.cancel()
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def _tick(self) -> None:
        try:
            await self.tick()
        except Exception:  # one bad tick must not end the loop
            log.exception("reconcile tick failed")

    async def tick(self, now: float | None = None) -> None:
        """Observes agents, starts a pass for every due cluster not in one, and fails over
        what the agents' silence calls for."""
        now = time.time() if now is None else now
        self._observe_agents(now)
        self._move_back(now)
        await self.manager.save_placements()
        await self._save_moves()
        items = [
            PlacedWorkload(r.workload, self.movebacks.applied(name, r.placed), r.generation)
            for name, r in self.manager.records.items()
        ]
        wanted = desired_objects(items, self.targets, self._style())
        for cluster in self.targets:
            if cluster in self._running or self._next_try.get(cluster, 0.0) > now:
                continue
            self._running[cluster] = asyncio.create_task(
                self._pass(cluster, wanted[cluster]), name=f"hub-executor-{cluster}"
            )
        await self._evaluate()
        self.passes += 1

    async def settled(self) -> None:
        """Waits for the passes under way (tests, shutdown)."""
        await asyncio.gather(*self._running.values(), return_exceptions=True)

    def _style(self) -> Style:
        archs: dict[str, set[str]] = {}
        for entry in self.inventory.nodes.values():
            ident = entry.report.identity
            archs.setdefault(ident.cluster, set()).add(ident.arch)
        return Style(
            identity=self.identity,
            pod_security=self.config.pod_security,
            cluster_archs={c: sorted(a) for c, a in archs.items()},
        )

    async def _pass(self, cluster: str, objects: list[Manifest]) -> None:
        try:
            result = await self._apply(cluster, objects)
            self._take(result, time.time())
            await self._evaluate()
        finally:
            self._running.pop(cluster, None)

    def _moves_now(self) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        moves = self.movebacks.moves
        return tuple(self.movebacks.queued), tuple(
            (n, repr(sorted(moves[n].items()))) for n in sorted(moves)
        )

    async def _save_moves(self) -> None:
        """Writes the move-back queue and moves when they changed (off the event loop)."""
        now = self._moves_now()
        if self.state is None or now == self._moves_saved:
            return
        queued = list(self.movebacks.queued)
        moves = dict(self.movebacks.moves)  # its replicas are immutable: a shallow copy will do
        try:
            await asyncio.to_thread(self.state.save_moves, queued, moves)
            self._moves_saved = now
        except Exception:
            log.exception("move-back state not saved")

    async def _evaluate(self) -> None:
        transitions = self.tracker.evaluate(time.time())
        if not transitions:
            return
        self._failover(transitions)
        await self.manager.save_placements()
        await self._save_moves()
        if self.state is not None:
            now = time.time()
            rows = [
                ClusterFailover(
                    t.cluster,
                    t.available,
                    t.reason,
                    now,
                    frozenset(self.displaced.get(t.cluster, ())),
                )
                for t in transitions
            ]
            try:
                await asyncio.to_thread(self.state.save, rows)
            except Exception:
                log.exception("failover state not saved")

    def _observe_agents(self, now: float) -> None:
        """Counts each cluster's agents and those not lost. An agent not heard since the hub
        started is given --lost-after from the start before it counts as lost: silence
        while the hub was down says nothing about the cluster."""
        known: dict[str, int] = {}
        live: dict[str, int] = {}
        waking = now - self.started < self.inventory.lost_after
        for entry in self.inventory.nodes.values():
            cluster = entry.report.identity.cluster
            known[cluster] = known.get(cluster, 0) + 1
            if entry.state is not NodeState.LOST or (waking and entry.last_seen < self.started):
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
        return apply_cluster(cluster, api, objects, self._limits[cluster], ownership=self.ownership)

    def _take(self, result: ApplyResult, now: float) -> None:
        cluster = result.cluster
        before = self.last.get(cluster)
        self.last[cluster] = result
        self._report(result, before, now)
        if result.error is None:
            self.tracker.observe_api(cluster, ok=True)
            self.ready[cluster] = dict(result.ready)
            self._next_try.pop(cluster, None)
            if before is not None and before.error is not None:
                log.info("cluster %s: Kubernetes API answers again", cluster)
            if result.changed:
                log.info("cluster %s: %s", cluster, result.summary())
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

    def _report(self, result: ApplyResult, before: ApplyResult | None, now: float) -> None:
        """Metrics and events of one pass: API errors, refused and foreign objects (an event
        when one is new), drift, and privilege added by hand (an alert)."""
        cluster = result.cluster
        m = self.executor_metrics
        for code, count in result.api_errors.items():
            m.api_errors.labels(cluster, code).inc(count)
        if result.error is not None and result.error.kind == "unreachable":
            m.api_errors.labels(cluster, "0").inc()
        if result.error is not None:
            return
        m.refused.labels(cluster).set(len(result.refused))
        m.foreign.labels(cluster).set(len(result.foreign))
        m.privilege.labels(cluster).inc(len(result.alerts))
        for kind, lines, old in (
            ("refused", result.refused, before.refused if before else []),
            ("foreign", result.foreign, before.foreign if before else []),
            ("drift", result.drift, []),
            ("privilege", result.alerts, []),
        ):
            for line in lines:
                if line in old:
                    continue
                self.inventory.record(Event(now, kind, cluster, line))
                level = logging.ERROR if kind == "privilege" else logging.WARNING
                log.log(level, "cluster %s: %s", cluster, line)

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
                    text += (
                        f", placing {len(back)} workloads again,"
                        f" at most {self.movebacks.cap} at a time"
                    )
                self.inventory.record(Event(now, "recovered", t.cluster, text))
                log.info("cluster %s: %s", t.cluster, text)
        self.movebacks.enqueue(back)
        changed = self.manager.schedule(now=now)
        if changed:
            log.info("failover placed replicas of %d workloads", len(changed))
        self._move_back(now)

    def _move_back(self, now: float) -> None:
        """Ends the moves whose new replicas are ready, and starts the next ones queued."""
        records = self.manager.records

        def placed_of(name: str) -> Replicas | None:
            record = records.get(name)
            return None if record is None else record.placed

        def ready(cluster: str, name: str) -> int | None:
            return self.ready_of(cluster, name) if cluster in self.targets else 1 << 30

        for name in self.movebacks.finish(placed_of, ready):
            if name in records:
                text = f"moved back: {records[name].placed}; the old replicas are released"
                self.inventory.record(Event(now, "moved", name, text))
                log.info("workload %s: %s", name, text)
        for name in self.movebacks.due():
            record = records.get(name)
            if record is None:
                continue
            old = record.placed  # immutable: the placement before this pass
            self.manager.schedule(force={name}, now=now)  # stored by the caller, after
            if self.movebacks.begin(name, old, record.placed):
                text = (
                    f"moving back: {old} → {record.placed}; the old replicas stay until"
                    " the new ones are ready"
                )
                self.inventory.record(Event(now, "moving", name, text))
