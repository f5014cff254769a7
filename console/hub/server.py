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
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import start_http_server

from console.executor.config import ExecutorConfig
from console.hub import watch
from console.hub.flusher import Flusher
from console.hub.ingest import AgentIngest, Pacer
from console.hub.inventory import Inventory
from console.hub.metrics import FleetCollector, HubMetrics, WorkloadCollector
from console.hub.plan_api import PlanApi
from console.hub.query import InventoryQuery, summary
from console.hub.watch import Watchers
from console.hub.workload_api import ClusterView, ReplicaRows, WorkloadApi
from console.hub.workloads import WorkloadManager
from console.model.fleet import Fleet
from console.model.workload import PlacementPolicy
from console.store.base import InventoryStore, StoredDocument
from tongchou.v1 import (
    agent_pb2,
    inventory_pb2,
    inventory_pb2_grpc,
    plans_pb2,
    plans_pb2_grpc,
    workloads_pb2,
    workloads_pb2_grpc,
)

log = logging.getLogger("tongchou.hub")
SERVICES = (
    "tongchou.v1.AgentService",
    "tongchou.v1.InventoryService",
    "tongchou.v1.WorkloadService",
    "tongchou.v1.PlanService",
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
        self.workloads = WorkloadManager(store, self.inventory, self.fleet, config.policies)
        self.watchers = Watchers(
            self.inventory, lambda: summary(self.inventory, self.fleet, self.pacer)
        )
        self.health = health.aio.HealthServicer()
        self._server: grpc.aio.Server | None = None
        self._httpd: WSGIServer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.reconciler: ClusterView | None = None

    async def start(self) -> None:
        """Loads the store, binds the ports, and starts the timers."""
        self.inventory.load(self.store.load_nodes())
        self.workloads.documents = self.fleet
        self.workloads.load()
        log.info(
            "loaded %d nodes and %d workloads from the store",
            len(self.inventory.nodes),
            len(self.workloads.records),
        )
        server = grpc.aio.server(
            options=[
                ("grpc.max_receive_message_length", 4 * 1024 * 1024),
                ("grpc.keepalive_permit_without_calls", 1),
                ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
                ("grpc.http2.max_ping_strikes", 0),
                ("grpc.so_reuseport", 0),
            ]
        )
        server.add_generic_rpc_handlers((self.ingest.handler(),))
        query = InventoryQuery(self.inventory, self.fleet, self.pacer)
        query.watchers = self.watchers
        inventory_pb2_grpc.add_InventoryServiceServicer_to_server(query, server)
        executor = self._executor()
        workloads_pb2_grpc.add_WorkloadServiceServicer_to_server(
            WorkloadApi(self.workloads, self.reconciler), server
        )
        plans_pb2_grpc.add_PlanServiceServicer_to_server(PlanApi(self.workloads), server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection.enable_server_reflection(
            (
                agent_pb2.DESCRIPTOR.services_by_name["AgentService"].full_name,
                inventory_pb2.DESCRIPTOR.services_by_name["InventoryService"].full_name,
                workloads_pb2.DESCRIPTOR.services_by_name["WorkloadService"].full_name,
                plans_pb2.DESCRIPTOR.services_by_name["PlanService"].full_name,
                health.SERVICE_NAME,
                reflection.SERVICE_NAME,
            ),
            server,
        )
        self.port = server.add_insecure_port(self.config.listen)
        if self.port == 0:
            raise OSError(f"cannot listen on {self.config.listen}")
        await server.start()
        self._server = server
        for name in ("", *SERVICES):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        self.metrics.registry.register(FleetCollector(self.inventory))
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

    async def _sweep(self) -> None:
        while not self.stop.is_set():
            now = time.time()
            self.inventory.sweep(now)
            interval = self.pacer.adjust(self.inventory.count_live())
            self.metrics.interval.set(interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), self.config.sweep_interval)

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
        log.info("hub stopped; inventory flushed")


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
