"""Assembles the hub: gRPC server (ingest, inventory, health, reflection), store, and timers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Coroutine
from dataclasses import replace
from typing import Any
from wsgiref.simple_server import WSGIServer

import grpc
from grpc_health.v1 import health

from console.documents.builtin import GUARDRAILS_OFF, UNSAFE_FLAG, with_guardrails
from console.hub import loops
from console.hub.api import scope, services, watch
from console.hub.api.httpports import HealthServer, serve_metrics
from console.hub.api.intake import Intake
from console.hub.api.inventory import InventoryQuery
from console.hub.api.messages import AgentAcks, fleet_summary
from console.hub.api.plans import PlanApi
from console.hub.api.policies import PolicyApi
from console.hub.api.solver import Solver
from console.hub.api.submission import Submissions
from console.hub.api.watch import Watchers
from console.hub.api.workloads import WorkloadApi
from console.hub.collectors import (
    AllocationCollector,
    FleetCollector,
    PlannerMetrics,
    ReplicaCollector,
    ReplicaRows,
    WorkloadCollector,
)
from console.hub.config import HubConfig
from console.hub.control.clusters import ClusterView
from console.hub.control.executor import reconciler_for
from console.hub.control.replicas import Replica, open_replica
from console.hub.control.workloads import WorkloadManager
from console.hub.fleet.claims import Claims
from console.hub.fleet.flusher import Flusher
from console.hub.fleet.ingest import AgentIngest
from console.hub.fleet.inventory import Inventory
from console.hub.fleet.pacing import Pacer
from console.hub.fleet.relayed import RelayIngest
from console.hub.fleet.view import stored_documents
from console.hub.metrics import HubMetrics
from console.hub.rollup.assembly import Rollup
from console.model.fleet import Fleet
from console.security.authz import Guard
from console.security.binding import NodeBinding, revocation_check
from console.security.servicers import SecurityServicers, security_servicers
from console.security.tls import INSECURE_WARNING
from console.security.trail import AuditTrail
from console.store.audit import AuditEntry, AuditLog
from console.store.base import InventoryStore
from console.store.credentials import Credentials, NodePlace
from console.store.open import tables_of
from console.store.postgres import PostgresStore
from console.store.sqlite import SqliteStore
from tongchou.files import write_atomically

NO_SHARED_AUDIT = (
    "NO AUDIT LOG: a postgresql:// store keeps the audit log only with --audit-key (the same"
    " key file for every replica); this --insecure hub records nothing"
)
log = logging.getLogger("tongchou.hub")

EVENTS_KEPT = 100_000


class Hub:
    """The running hub. `start()` binds the ports; setting `stop` ends `serve()`."""

    def __init__(
        self,
        config: HubConfig,
        store: InventoryStore,
        *,
        fleet: Fleet | None = None,
        stop: asyncio.Event | None = None,
        metrics: HubMetrics | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.fleet = fleet or Fleet()
        self.stop = stop or asyncio.Event()
        self.metrics = metrics or HubMetrics()
        self.planner_metrics = PlannerMetrics(self.metrics.registry)
        self.port = 0
        self.metrics_port = 0
        self.inventory = Inventory(lost_after=config.lost_after)
        self.pacer = Pacer(config.report_interval, config.max_report_rate)
        self.flusher = Flusher(
            self.inventory, store, self.metrics, config.flush_interval, config.heartbeat_every
        )
        self.ingest = AgentIngest(
            self.inventory,
            self.flusher,
            self.metrics,
            self.pacer,
            AgentAcks(),
            max_report_bytes=config.max_report_bytes,
        )
        self.ingest.max_stream_rate = config.max_stream_rate
        self.places: dict[str, NodePlace] = {}  # nodes' places from their join tokens
        claims = Claims(lambda: self.fleet, self.places)
        self.ingest.guard_claims(config.hygiene, claims, self._refused_claim)
        policies = with_guardrails(config.policies, enabled=not config.guardrails_off).policies
        self.workloads = WorkloadManager(store, self.inventory, self.fleet, policies)
        self.intake = Intake()  # API documents, read on their own threads
        self.solver = Solver()  # plans, solved in processes of their own
        self.watchers = Watchers(
            self.inventory, lambda: fleet_summary(self.inventory, self.fleet, self.pacer)
        )
        self.health = health.aio.HealthServicer()
        self._server: grpc.aio.Server | None = None
        self._httpd: WSGIServer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.audit: AuditLog | None = None  # with a SQLite store
        self.trail: AuditTrail | None = None  # its writer, refusal counts and checks
        self._healthz: HealthServer | None = None
        self.credentials: Credentials | None = None  # join tokens and users, ditto
        self.security: SecurityServicers | None = None  # UserService, AuditService, JoinService
        self.token_port = 0
        self.guard: Guard | None = None  # authentication and authorisation, with mutual TLS
        self._token_server: grpc.aio.Server | None = None
        self.reconciler: ClusterView | None = None
        self.replica: Replica | None = None  # one of several hubs on a PostgreSQL store
        path = store.path if isinstance(store, SqliteStore) else None
        self.rollup = Rollup.of(config, path, self.inventory, lambda: self.fleet, self.metrics)

    async def start(self) -> None:
        """Loads the store, binds the ports, and starts the timers."""
        await asyncio.to_thread(self._open_audit)  # PostgreSQL: pools and a migration
        if self.trail is not None:  # a broken chain is logged now, not at the first check
            await self.trail.verify()
        if self.credentials is not None:
            self.places.update(await asyncio.to_thread(self.credentials.node_places))
        if self.config.guardrails_off:  # --unsafe-no-guardrails: loud in the log, and audited
            log.warning("%s", GUARDRAILS_OFF)
            self.record(AuditEntry("hub", "hub.start", "guardrails", "off", detail=UNSAFE_FLAG))
        parts = (self.store, self.workloads, self.metrics)
        self.replica = await open_replica(self.config.replicas, *parts)
        self.inventory.load(await asyncio.to_thread(self.store.load_nodes))
        self.workloads.documents = self.fleet
        await self.workloads.load()
        await self.rollup.start()
        counts = len(self.inventory.nodes), len(self.workloads.records)
        log.info("loaded %d nodes and %d workloads from the store", *counts)
        interceptors = self._guard()
        executor = self._executor()
        servicers = self._servicers()
        self._register_collectors()
        self._serve_metrics()  # first: a busy metrics port is said as such, nothing to undo
        options = self.config.hygiene.server_options()
        self.metrics.max_connections.set(dict(options)["grpc.max_allowed_incoming_connections"])
        server = services.main_server(servicers, self.health, interceptors, options)
        try:
            self.port = self._bind(server)
        except OSError:
            if self._httpd is not None:
                self._httpd.shutdown()
            raise
        await server.start()
        self._server = server
        if self.config.token_listen:
            self._token_server, self.token_port = await services.token_server(
                self.config.token_listen, self.config.tls, servicers, interceptors
            )
        await services.set_health(self.health, serving=True)
        if self.config.health_listen:
            self._healthz = HealthServer(self.config.health_listen, lambda: not self.stop.is_set())
        self._start_tasks(executor)
        host = self.config.listen.rpartition(":")[0]
        log.info("hub listening on %s:%d, metrics on :%d", host, self.port, self.metrics_port)
        if self.config.ready_file is not None:
            ports = {"grpc_port": self.port, "metrics_port": self.metrics_port}
            write_atomically(self.config.ready_file, json.dumps({**ports, "pid": os.getpid()}))

    def _open_audit(self) -> None:
        """The audit log (its chain checked now) and the credentials, in the store (on a
        PostgreSQL store: shared with the other replicas)."""
        c, m = self.config, self.metrics
        if not isinstance(self.store, SqliteStore | PostgresStore):
            return
        if isinstance(self.store, PostgresStore) and c.audit_key is None and c.tls is None:
            log.warning(NO_SHARED_AUDIT)
            return
        self.trail = AuditTrail(tables_of(self.store), c.audit_key, c.audit_witness, m)
        self.audit = self.trail.log
        self.credentials = Credentials(tables_of(self.store))

    def _guard(self) -> list[grpc.aio.ServerInterceptor]:
        """Authentication, permissions and scopes: with mutual TLS and credentials."""
        if self.config.tls is None or self.credentials is None:
            return []
        denied = self.metrics.denied
        self.guard = Guard(self.credentials, self.record, lambda r: denied.labels(r).inc())
        scope.install(self.guard, self.inventory, self.workloads, self.intake)
        return [self.guard]

    def _servicers(self) -> services.Servicers:
        config = self.config
        self.security = security = security_servicers(
            self.credentials,
            self.trail,
            self.record,
            ca_dir=config.ca_dir,
            mutual_tls=config.tls is not None,
            delivery=config.enrol_delivery,
            node_cert_days=config.node_cert_days,
            enrolled=self._enrolled,
        )
        submissions = Submissions(self.workloads, self.reconciler, self.intake)
        return services.Servicers(
            inventory=InventoryQuery(
                self.inventory,
                self.fleet,
                self.pacer,
                watchers=self.watchers,
                workloads=self.workloads,
                platforms=config.platforms,
            ),
            workloads=WorkloadApi(self.workloads, self.reconciler, self.intake, submissions),
            plans=PlanApi(
                self.workloads, self.planner_metrics, self.intake, self.solver, submissions
            ),
            policies=PolicyApi(self.workloads, self.intake),
            users=security.users,
            audit=security.audit,
            join=security.join,
            rollup=self.rollup.national,
            generic=[self.ingest.handler(), RelayIngest(self.ingest, lambda: self.fleet).handler()],
        )

    def _bind(self, server: grpc.aio.Server) -> int:
        """Binds the main port: mutual TLS (and node binding) or, with a warning, plaintext."""
        self.ingest.audit = self.record
        if self.config.tls is not None:
            credentials = self.credentials
            self.ingest.binding = NodeBinding(
                trust_simulators=self.config.trust_simulators,
                audit=self.record,
                revoked=revocation_check(credentials),
            )
            self.rollup.guard(revocation_check(credentials), self.record)
            port = server.add_secure_port(self.config.listen, self.config.tls.server_credentials())
        else:
            log.warning(INSECURE_WARNING)
            port = server.add_insecure_port(self.config.listen)
        if port == 0:
            raise OSError(f"cannot listen on {self.config.listen}")
        return port

    def _register_collectors(self) -> None:
        workloads = self.workloads
        for collector in (
            FleetCollector(self.inventory),
            AllocationCollector(
                self.inventory, lambda: workloads.records, lambda: workloads.documents
            ),
            WorkloadCollector(lambda: workloads.records),
            ReplicaCollector(ReplicaRows(workloads, self.reconciler)),
        ):
            self.metrics.registry.register(collector)

    def _serve_metrics(self) -> None:
        config, registry = self.config, self.metrics.registry
        if not config.metrics_listen:
            return
        try:
            self._httpd = serve_metrics(config.metrics_listen, config.metrics_tls, registry)
        except OSError as err:
            raise OSError(
                f"cannot serve /metrics on {config.metrics_listen} (--metrics-listen): "
                f"{err.strerror or err}"
            ) from None
        self.metrics_port = int(self._httpd.server_port)

    def _start_tasks(self, executor: Coroutine[Any, Any, None] | None) -> None:
        """The hub's named background tasks; `stop` ends each of them."""
        config, stop = self.config, self.stop
        work: dict[str, Coroutine[Any, Any, None]] = {
            "hub-store-flusher": self.flusher.run(stop),
            "hub-liveness-sweeper": loops.every(stop, config.sweep_interval, self._sweep),
            "hub-pending-retry": loops.every(
                stop, config.retry_interval, self._retry, wait_first=True
            ),
            "hub-watchers": watch.run(self.watchers, stop),
            **self.rollup.tasks(stop),
        }
        if self.trail is not None:
            work["hub-audit-check"] = self.trail.run(
                stop,
                interval=config.audit_check_interval,
                retention_months=config.audit_retention_months,
            )
        if executor is not None:
            work["hub-executor"] = executor
        if self.replica is not None:
            work["hub-replica"] = self.replica.run(stop)
        self._tasks = [asyncio.create_task(coro, name=name) for name, coro in work.items()]

    def _executor(self) -> Coroutine[Any, Any, None] | None:
        """The reconcile loop, when a kubeconfig is given and some cluster has a kubeContext."""
        parts = (self.store, self.workloads, self.inventory, self.fleet, self.metrics)
        reconciler = reconciler_for(self.config.executor, *parts)
        if reconciler is None:
            return None
        self.reconciler = reconciler
        if self.replica is not None:  # only the leading replica reconciles and fails over
            self.replica.add_duty("executor", reconciler.run)
            return None
        return reconciler.run(self.stop)

    def load_fleet(self, fleet: Fleet) -> None:
        """Takes the fleet documents the hub was started with, and stores them."""
        self.fleet = fleet
        self.store.replace_documents(stored_documents(fleet))

    def _sweep(self) -> None:
        self.inventory.sweep(time.time(), self.replica.sweep_grace if self.replica else 0.0)
        interval = self.pacer.adjust(self.inventory.count_live())
        self.metrics.interval.set(interval)

    def _enrolled(self, node: str, place: NodePlace | None) -> None:
        """A node joined: its reports are bound to its token's place from now on."""
        self.places.pop(node, None)
        if place is not None:
            self.places[node] = place

    def _refused_claim(self, node: str, peer: str, why: str) -> None:
        entry = AuditEntry(f"node:{node}", "agent.report", f"node/{node}", "denied")
        self.record(replace(entry, detail=f"{why} (from {peer})"))

    def record(self, entry: AuditEntry) -> None:
        """Queues an entry for the audit log (when the store has one); never waits on disk."""
        if self.trail is not None:
            self.trail.record(entry)

    def audit_flush(self) -> None:
        """Blocks until every entry recorded so far is written (tests, exports)."""
        if self.trail is not None:
            self.trail.flush()

    async def _retry(self) -> None:
        """Places pending replicas again when the inventory has changed, and stores the
        placements (on the store's thread) that are not stored yet."""
        if self.replica is not None and not self.replica.leading:
            return  # the leading replica runs the scheduling passes
        started = time.perf_counter()
        try:
            changed = self.workloads.retry_if_changed()
        except Exception:  # one bad pass must not stop the retries
            log.exception("scheduling pass failed")
            changed = []
        if changed:
            self.metrics.schedule_seconds.observe(time.perf_counter() - started)
            log.info("placed pending replicas of %d workloads", len(changed))
        await self.workloads.save_placements()

    async def serve(self) -> None:
        """Runs until `stop` is set, then drains and flushes."""
        await self.stop.wait()
        await self.shutdown()

    async def shutdown(self) -> None:
        self.stop.set()
        self.ingest.draining = True
        await services.set_health(self.health, serving=False)
        if self._token_server is not None:
            await self._token_server.stop(0)
        if self._server is not None:
            await self._server.stop(self.config.shutdown_grace)
        for task in self._tasks:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, self.config.shutdown_grace)
        self.intake.close()
        self.solver.close()
        await self.workloads.save_placements()
        await self.workloads.close()
        await self.flusher.flush(full=True)
        await asyncio.to_thread(self.store.prune_events, EVENTS_KEPT)
        if self._httpd is not None:
            self._httpd.shutdown()
        if self._healthz is not None:
            self._healthz.close()
        await asyncio.to_thread(self.store.close)
        self.rollup.close()
        if self.trail is not None:
            await asyncio.to_thread(self.trail.close)
        if self.credentials is not None:
            await asyncio.to_thread(self.credentials.close)
        log.info("hub stopped; inventory flushed")
