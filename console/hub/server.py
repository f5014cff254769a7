"""Assembles the hub: gRPC server (ingest, inventory, health, reflection), store, and timers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Coroutine
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIServer

import grpc
from grpc_health.v1 import health
from prometheus_client import start_http_server

from console.executor.config import ExecutorConfig
from console.hub import loops
from console.hub.api import scope, services, watch
from console.hub.api.inventory import InventoryQuery
from console.hub.api.messages import fleet_summary
from console.hub.api.plans import PlanApi
from console.hub.api.policies import PolicyApi
from console.hub.api.services import SERVICES
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
from console.hub.control.clusters import ClusterView
from console.hub.control.workloads import WorkloadManager
from console.hub.fleet.flusher import Flusher
from console.hub.fleet.ingest import AgentIngest
from console.hub.fleet.inventory import Inventory
from console.hub.fleet.pacing import Pacer
from console.hub.metrics import HubMetrics
from console.model.fleet import Fleet
from console.model.workload import PlacementPolicy
from console.security.apis import AuditApi, UserApi
from console.security.authz import Guard
from console.security.binding import NodeBinding
from console.security.join import JoinApi
from console.security.pki import CertificateAuthority, PkiError
from console.security.tls import INSECURE_WARNING, TlsFiles
from console.store.audit import AuditEntry, AuditError, AuditLog, default_key_path, load_key
from console.store.base import InventoryStore, StoredDocument
from console.store.credentials import Credentials
from console.store.sqlite import SqliteStore

log = logging.getLogger("tongchou.hub")
__all__ = ["SERVICES", "Hub", "HubConfig"]
EVENTS_KEPT = 100_000


@dataclass(frozen=True, slots=True)
class HubConfig:
    """How the hub runs. Durations in seconds."""

    listen: str = "0.0.0.0:7470"
    metrics_listen: str = "0.0.0.0:9470"
    report_interval: float = 10.0
    max_report_rate: float = 2000.0
    lost_after: float = 120.0
    flush_interval: float = 1.0
    heartbeat_every: float = 30.0
    sweep_interval: float = 1.0
    max_report_bytes: int = 64 * 1024
    shutdown_grace: float = 5.0
    ready_file: Path | None = None
    retry_interval: float = 2.0
    policies: tuple[PlacementPolicy, ...] = ()
    tls: TlsFiles | None = None  # None: plaintext, which the hub logs as a warning
    trust_simulators: bool = False  # a "simulator" certificate may report for any node
    audit_key: Path | None = None  # default: <store>.audit-key, created on first start
    audit_retention_months: int = 6
    audit_check_interval: float = 300.0  # verify the chain (and prune) this often
    ca_dir: Path | None = None  # the CA that signs join and renewal requests
    token_listen: str = ""  # TLS without client certificates: join and bearer tokens
    node_cert_days: float = 90.0
    max_stream_rate: float = 25.0  # reports/s one agent stream may send (burst twice that)
    # The Kubernetes executor and failover; None (or no cluster with a kubeContext): off.
    executor: ExecutorConfig | None = None


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
            max_report_bytes=config.max_report_bytes,
        )
        self.ingest.max_stream_rate = config.max_stream_rate
        self.workloads = WorkloadManager(store, self.inventory, self.fleet, config.policies)
        self.watchers = Watchers(
            self.inventory, lambda: fleet_summary(self.inventory, self.fleet, self.pacer)
        )
        self.health = health.aio.HealthServicer()
        self._server: grpc.aio.Server | None = None
        self._httpd: WSGIServer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.audit: AuditLog | None = None  # with a SQLite store
        self.credentials: Credentials | None = None  # join tokens and users, ditto
        self.token_port = 0
        self.guard: Guard | None = None  # authentication and authorisation, with mutual TLS
        self._token_server: grpc.aio.Server | None = None
        self.reconciler: ClusterView | None = None

    async def start(self) -> None:
        """Loads the store, binds the ports, and starts the timers."""
        self._open_audit()
        self.inventory.load(self.store.load_nodes())
        self.workloads.documents = self.fleet
        self.workloads.load()
        log.info(
            "loaded %d nodes and %d workloads from the store",
            len(self.inventory.nodes),
            len(self.workloads.records),
        )
        interceptors = self._guard()
        executor = self._executor()
        servicers = self._servicers()
        self._register_collectors()
        self._serve_metrics()  # first: a busy metrics port is said as such, nothing to undo
        server = services.main_server(servicers, self.health, interceptors)
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
        self._start_tasks(executor)
        host = self.config.listen.rpartition(":")[0]
        log.info("hub listening on %s:%d, metrics on :%d", host, self.port, self.metrics_port)
        if self.config.ready_file is not None:
            ports = {"grpc_port": self.port, "metrics_port": self.metrics_port}
            _write_atomically(self.config.ready_file, json.dumps({**ports, "pid": os.getpid()}))

    def _open_audit(self) -> None:
        """With a SQLite store: the audit log (its chain checked now) and the credentials."""
        if isinstance(self.store, SqliteStore):
            key = load_key(self.config.audit_key or default_key_path(self.store.path), create=True)
            self.audit = AuditLog(self.store.path, key)
            self.credentials = Credentials(self.store.path)
            self.metrics.audit_chain_ok.set(1 if self.audit.verify().ok else 0)

    def _guard(self) -> list[grpc.aio.ServerInterceptor]:
        """Authentication, permissions and scopes: with mutual TLS and credentials."""
        if self.config.tls is None or self.credentials is None:
            return []
        denied = self.metrics.denied
        self.guard = Guard(self.credentials, self.record, lambda r: denied.labels(r).inc())
        scope.install(self.guard, self.inventory, self.workloads)
        return [self.guard]

    def _servicers(self) -> services.Servicers:
        query = InventoryQuery(self.inventory, self.fleet, self.pacer)
        query.watchers = self.watchers
        query.workloads = self.workloads
        return services.Servicers(
            inventory=query,
            workloads=WorkloadApi(self.workloads, self.reconciler),
            plans=PlanApi(self.workloads, self.planner_metrics),
            policies=PolicyApi(self.workloads),
            users=UserApi(self.credentials) if self.credentials is not None else None,
            audit=AuditApi(self.audit) if self.audit is not None else None,
            join=self._join_api(),
            generic=[self.ingest.handler()],
        )

    def _bind(self, server: grpc.aio.Server) -> int:
        """Binds the main port: mutual TLS (and node binding) or, with a warning, plaintext."""
        if self.config.tls is not None:
            credentials = self.credentials
            self.ingest.binding = NodeBinding(
                trust_simulators=self.config.trust_simulators,
                audit=self.record,
                revoked=credentials.is_revoked if credentials else lambda _serial: False,
            )
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
        if not self.config.metrics_listen:
            return
        host, _, port = self.config.metrics_listen.rpartition(":")
        try:
            httpd, _thread = start_http_server(
                int(port), addr=host.strip("[]") or "0.0.0.0", registry=self.metrics.registry
            )
        except OSError as err:
            raise OSError(
                f"cannot serve /metrics on {self.config.metrics_listen} (--metrics-listen): "
                f"{err.strerror or err}"
            ) from None
        self.metrics_port = int(httpd.server_port)
        self._httpd = httpd

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
        }
        if self.audit is not None:
            work["hub-audit-check"] = loops.every(
                stop, config.audit_check_interval, self._audit_check, wait_first=True
            )
        if executor is not None:
            work["hub-executor"] = executor
        self._tasks = [asyncio.create_task(coro, name=name) for name, coro in work.items()]

    def _executor(self) -> Coroutine[Any, Any, None] | None:
        """The reconcile loop, when a kubeconfig is given and some cluster has a kubeContext."""
        config = self.config.executor
        if config is None:
            return None
        if not any(c.kube_context for c in self.fleet.clusters.values()):
            log.warning("--kubeconfig given but no cluster has a kubeContext: executor off")
            return None
        from console.hub.control.reconcile import Reconciler

        reconciler = Reconciler(config, self.workloads, self.inventory, self.fleet, self.metrics)
        self.reconciler = reconciler
        log.info(
            "executor on for %d clusters (kubeconfig %s)",
            len(reconciler.targets),
            config.kubeconfig,
        )
        return reconciler.run(self.stop)

    def load_fleet(self, fleet: Fleet) -> None:
        """Takes the fleet documents the hub was started with, and stores them."""
        self.fleet = fleet
        docs = [
            StoredDocument("Division", d.code, json.dumps(asdict(d), ensure_ascii=False))
            for d in fleet.divisions.values()
        ]
        docs += [
            StoredDocument("Site", s.name, json.dumps(asdict(s), ensure_ascii=False))
            for s in fleet.sites.values()
        ]
        docs += [
            StoredDocument("Cluster", c.name, json.dumps(asdict(c), ensure_ascii=False))
            for c in fleet.clusters.values()
        ]
        self.store.replace_documents(docs)

    def _sweep(self) -> None:
        self.inventory.sweep(time.time())
        interval = self.pacer.adjust(self.inventory.count_live())
        self.metrics.interval.set(interval)

    def _join_api(self) -> JoinApi | None:
        if self.config.ca_dir is None:
            return None
        if self.credentials is None or self.config.tls is None:
            raise RuntimeError("joining nodes needs mutual TLS and a SQLite store")
        try:
            ca = CertificateAuthority.load(self.config.ca_dir)
        except PkiError as err:
            raise RuntimeError(str(err)) from None
        return JoinApi(ca, self.credentials, self.record, node_cert_days=self.config.node_cert_days)

    def record(self, entry: AuditEntry) -> None:
        """Appends to the audit log (when the store has one); a failed write is logged loudly."""
        if self.audit is None:
            return
        try:
            self.audit.append(entry)
        except AuditError as err:
            self.metrics.audit_chain_ok.set(0)
            log.error("AUDIT WRITE FAILED (%s): %s", err, entry)

    async def _audit_check(self) -> None:
        """Verifies the chain and prunes past the retention (every `audit_check_interval`)."""
        assert self.audit is not None
        try:
            await asyncio.to_thread(self.audit.prune, months=self.config.audit_retention_months)
            verdict = await asyncio.to_thread(self.audit.verify)
        except AuditError as err:
            log.error("audit check failed: %s", err)
            self.metrics.audit_chain_ok.set(0)
            return
        self.metrics.audit_chain_ok.set(1 if verdict.ok else 0)
        if not verdict.ok:
            log.error("AUDIT CHAIN BROKEN at record %s: %s", verdict.bad_seq, verdict.problem)

    def _retry(self) -> None:
        """Places pending replicas again when the inventory has changed."""
        started = time.perf_counter()
        try:
            changed = self.workloads.retry_if_changed()
        except Exception:  # one bad pass must not stop the retries
            log.exception("scheduling pass failed")
            return
        if changed:
            self.metrics.schedule_seconds.observe(time.perf_counter() - started)
            log.info("placed pending replicas of %d workloads", len(changed))

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
        await self.flusher.flush(full=True)
        await asyncio.to_thread(self.store.prune_events, EVENTS_KEPT)
        if self._httpd is not None:
            self._httpd.shutdown()
        self.store.close()
        if self.audit is not None:
            self.audit.close()
        if self.credentials is not None:
            self.credentials.close()
        log.info("hub stopped; inventory flushed")


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
