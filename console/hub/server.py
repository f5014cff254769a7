"""Assembles the hub: gRPC server (ingest, inventory, health, reflection), store, and timers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIServer

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import start_http_server

from console.executor.config import ExecutorConfig
from console.hub import guard, watch
from console.hub.collectors import AllocationCollector, PlannerMetrics
from console.hub.collectors import WorkloadCollector as WorkloadStateCollector
from console.hub.flusher import Flusher
from console.hub.ingest import AgentIngest, Pacer
from console.hub.inventory import Inventory
from console.hub.metrics import FleetCollector, HubMetrics, WorkloadCollector
from console.hub.plan_api import PlanApi
from console.hub.policy_api import PolicyApi
from console.hub.query import InventoryQuery, summary
from console.hub.watch import Watchers
from console.hub.workload_api import ClusterView, ReplicaRows, WorkloadApi
from console.hub.workloads import WorkloadManager
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
from tongchou.v1 import (
    agent_pb2,
    inventory_pb2,
    inventory_pb2_grpc,
    plans_pb2,
    plans_pb2_grpc,
    policies_pb2,
    policies_pb2_grpc,
    security_pb2,
    security_pb2_grpc,
    workloads_pb2,
    workloads_pb2_grpc,
)

log = logging.getLogger("tongchou.hub")
SERVICES = (
    "tongchou.v1.AgentService",
    "tongchou.v1.InventoryService",
    "tongchou.v1.WorkloadService",
    "tongchou.v1.PlanService",
    "tongchou.v1.PolicyService",
)
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
            self.inventory, lambda: summary(self.inventory, self.fleet, self.pacer)
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
        if isinstance(self.store, SqliteStore):
            key = load_key(self.config.audit_key or default_key_path(self.store.path), create=True)
            self.audit = AuditLog(self.store.path, key)
            self.credentials = Credentials(self.store.path)
            self.metrics.audit_chain_ok.set(1 if self.audit.verify().ok else 0)
        self.inventory.load(self.store.load_nodes())
        self.workloads.documents = self.fleet
        self.workloads.load()
        log.info(
            "loaded %d nodes and %d workloads from the store",
            len(self.inventory.nodes),
            len(self.workloads.records),
        )
        interceptors: list[grpc.aio.ServerInterceptor] = []
        if self.config.tls is not None and self.credentials is not None:
            denied = self.metrics.denied
            self.guard = Guard(self.credentials, self.record, lambda r: denied.labels(r).inc())
            guard.install(self.guard, self.inventory, self.workloads)
            interceptors.append(self.guard)
        server = grpc.aio.server(
            interceptors=interceptors,
            options=[
                ("grpc.max_receive_message_length", 4 * 1024 * 1024),
                ("grpc.keepalive_permit_without_calls", 1),
                ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
                ("grpc.http2.max_ping_strikes", 0),
                ("grpc.so_reuseport", 0),
            ],
        )
        server.add_generic_rpc_handlers((self.ingest.handler(),))
        query = InventoryQuery(self.inventory, self.fleet, self.pacer)
        query.watchers = self.watchers
        query.workloads = self.workloads
        executor = self._executor()
        apis: list[tuple[Callable[[Any, grpc.aio.Server], None], object]] = [
            (inventory_pb2_grpc.add_InventoryServiceServicer_to_server, query),
            (
                workloads_pb2_grpc.add_WorkloadServiceServicer_to_server,
                WorkloadApi(self.workloads, self.reconciler),
            ),
            (
                plans_pb2_grpc.add_PlanServiceServicer_to_server,
                PlanApi(self.workloads, self.planner_metrics),
            ),
            (policies_pb2_grpc.add_PolicyServiceServicer_to_server, PolicyApi(self.workloads)),
        ]
        if self.credentials is not None:
            apis.append(
                (security_pb2_grpc.add_UserServiceServicer_to_server, UserApi(self.credentials))
            )
        if self.audit is not None:
            apis.append(
                (security_pb2_grpc.add_AuditServiceServicer_to_server, AuditApi(self.audit))
            )
        join = self._join_api()
        if join is not None:
            apis.append((security_pb2_grpc.add_JoinServiceServicer_to_server, join))
        for add, servicer in apis:
            add(servicer, server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection.enable_server_reflection(
            (
                agent_pb2.DESCRIPTOR.services_by_name["AgentService"].full_name,
                inventory_pb2.DESCRIPTOR.services_by_name["InventoryService"].full_name,
                workloads_pb2.DESCRIPTOR.services_by_name["WorkloadService"].full_name,
                plans_pb2.DESCRIPTOR.services_by_name["PlanService"].full_name,
                policies_pb2.DESCRIPTOR.services_by_name["PolicyService"].full_name,
                *(s.full_name for s in security_pb2.DESCRIPTOR.services_by_name.values()),
                health.SERVICE_NAME,
                reflection.SERVICE_NAME,
            ),
            server,
        )
        if self.config.tls is not None:
            credentials = self.credentials
            self.ingest.binding = NodeBinding(
                trust_simulators=self.config.trust_simulators,
                audit=self.record,
                revoked=credentials.is_revoked if credentials else lambda _serial: False,
            )
            self.port = server.add_secure_port(
                self.config.listen, self.config.tls.server_credentials()
            )
        else:
            log.warning(INSECURE_WARNING)
            self.port = server.add_insecure_port(self.config.listen)
        if self.port == 0:
            raise OSError(f"cannot listen on {self.config.listen}")
        await server.start()
        self._server = server
        if self.config.token_listen:
            await self._start_token_port(apis, interceptors)
        for name in ("", *SERVICES):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        self.metrics.registry.register(FleetCollector(self.inventory))
        self.metrics.registry.register(
            AllocationCollector(
                self.inventory, lambda: self.workloads.records, lambda: self.workloads.documents
            )
        )
        self.metrics.registry.register(WorkloadStateCollector(lambda: self.workloads.records))
        self.metrics.registry.register(
            WorkloadCollector(ReplicaRows(self.workloads, self.reconciler))
        )
        if self.config.metrics_listen:
            host, _, port = self.config.metrics_listen.rpartition(":")
            httpd, _thread = start_http_server(
                int(port), addr=host.strip("[]") or "0.0.0.0", registry=self.metrics.registry
            )
            self.metrics_port = int(httpd.server_port)
            self._httpd = httpd
        self._tasks = [
            asyncio.create_task(self.flusher.run(self.stop), name="hub-store-flusher"),
            asyncio.create_task(self._sweep(), name="hub-liveness-sweeper"),
            asyncio.create_task(self._retry(), name="hub-pending-retry"),
            asyncio.create_task(watch.run(self.watchers, self.stop), name="hub-watchers"),
        ]
        if self.audit is not None:
            self._tasks.append(asyncio.create_task(self._audit_check(), name="hub-audit-check"))
        if executor is not None:
            self._tasks.append(asyncio.create_task(executor, name="hub-executor"))
        host = self.config.listen.rpartition(":")[0]
        log.info("hub listening on %s:%d, metrics on :%d", host, self.port, self.metrics_port)
        if self.config.ready_file is not None:
            _write_atomically(
                self.config.ready_file,
                json.dumps(
                    {"grpc_port": self.port, "metrics_port": self.metrics_port, "pid": os.getpid()}
                ),
            )

    def _executor(self) -> Coroutine[Any, Any, None] | None:
        """The reconcile loop, when a kubeconfig is given and some cluster has a kubeContext."""
        config = self.config.executor
        if config is None:
            return None
        if not any(c.kube_context for c in self.fleet.clusters.values()):
            log.warning("--kubeconfig given but no cluster has a kubeContext: executor off")
            return None
        from console.hub.reconcile import Reconciler
        from console.store.executor_state import ExecutorState

        state = ExecutorState(self.store.path) if isinstance(self.store, SqliteStore) else None
        reconciler = Reconciler(
            config, self.workloads, self.inventory, self.fleet, self.metrics, state
        )
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

    async def _sweep(self) -> None:
        while not self.stop.is_set():
            now = time.time()
            self.inventory.sweep(now)
            interval = self.pacer.adjust(self.inventory.count_live())
            self.metrics.interval.set(interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), self.config.sweep_interval)

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

    async def _start_token_port(
        self,
        apis: list[tuple[Callable[[Any, grpc.aio.Server], None], object]],
        interceptors: list[grpc.aio.ServerInterceptor],
    ) -> None:
        """The token port: server TLS only, for callers without a certificate — nodes joining
        with a join token, console users with a bearer token. The same guard applies."""
        if self.config.tls is None:
            raise RuntimeError("the token port needs TLS (--tls-*)")
        server = grpc.aio.server(
            interceptors=interceptors, options=[("grpc.max_receive_message_length", 4 << 20)]
        )
        for add, servicer in apis:
            add(servicer, server)
        credentials = grpc.ssl_server_credentials(
            [(self.config.tls.key, self.config.tls.cert)], require_client_auth=False
        )
        self.token_port = server.add_secure_port(self.config.token_listen, credentials)
        if self.token_port == 0:
            raise OSError(f"cannot listen on {self.config.token_listen}")
        await server.start()
        self._token_server = server
        log.info("token port (join tokens, bearer tokens) on %s", self.token_port)

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
        """Verifies the chain and prunes past the retention, every `audit_check_interval`."""
        assert self.audit is not None
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), self.config.audit_check_interval)
            if self.stop.is_set():
                return
            try:
                await asyncio.to_thread(self.audit.prune, months=self.config.audit_retention_months)
                verdict = await asyncio.to_thread(self.audit.verify)
            except AuditError as err:
                log.error("audit check failed: %s", err)
                self.metrics.audit_chain_ok.set(0)
                continue
            self.metrics.audit_chain_ok.set(1 if verdict.ok else 0)
            if not verdict.ok:
                log.error("AUDIT CHAIN BROKEN at record %s: %s", verdict.bad_seq, verdict.problem)

    async def _retry(self) -> None:
        """Places pending replicas again when the inventory has changed."""
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), self.config.retry_interval)
            if self.stop.is_set():
                return
            started = time.perf_counter()
            try:
                changed = self.workloads.retry_if_changed()
            except Exception:  # one bad pass must not stop the retries
                log.exception("scheduling pass failed")
                continue
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
        for name in ("", *SERVICES):
            await self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
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
