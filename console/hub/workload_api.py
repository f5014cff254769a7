"""WorkloadService: submit, delete, list and explain workloads over gRPC."""

from __future__ import annotations

import asyncio
from typing import Protocol

import grpc

from console.hub.answers import found
from console.hub.workloads import WorkloadError, WorkloadManager, WorkloadRecord
from console.scheduler import Placement
from tongchou.v1 import workloads_pb2, workloads_pb2_grpc

MAX_DOCUMENT = 256 * 1024


class ClusterView(Protocol):
    """What the executor knows per cluster (ready replicas, health), when it runs."""

    def ready_of(self, cluster: str, workload: str) -> int | None: ...

    def health_of(self, cluster: str) -> str: ...

    def available(self) -> dict[str, bool]: ...


def status_message(
    record: WorkloadRecord, clusters: ClusterView | None = None
) -> workloads_pb2.WorkloadStatus:
    w = record.workload
    out = workloads_pb2.WorkloadStatus(
        name=w.name,
        owner=w.owner,
        replicas=w.replicas,
        pending=record.pending,
        reason=record.reason,
        summary=record.summary,
        generation=record.generation,
        priority=w.priority,
        placed=[
            workloads_pb2.ClusterReplicas(cluster=c, replicas=n)
            for c, n in sorted(record.placed.items())
        ],
    )
    if clusters is not None:
        for item in out.placed:
            ready = clusters.ready_of(item.cluster, w.name)
            if ready is not None:
                item.ready = ready
            item.health = clusters.health_of(item.cluster)
    out.submitted_at.FromNanoseconds(int(record.submitted_at * 1e9))
    if record.scheduled_at:
        out.scheduled_at.FromNanoseconds(int(record.scheduled_at * 1e9))
    return out


def explanation_message(record: WorkloadRecord, result: Placement) -> workloads_pb2.Explanation:
    out = workloads_pb2.Explanation(status=status_message(record), summary=result.summary)
    for v in result.verdicts or []:
        verdict = workloads_pb2.ClusterVerdict(
            cluster=v.cluster, site=v.site, removed_by=v.removed_by, reason=v.reason,
            fit=max(v.fit, 0), cap=max(v.cap, 0), score=v.score, replicas=v.replicas,
        )  # fmt: skip
        verdict.terms.update(v.terms)
        out.clusters.append(verdict)
    return out


class WorkloadApi(workloads_pb2_grpc.WorkloadServiceServicer):
    """Thin: every decision is the WorkloadManager's; one change at a time."""

    def __init__(self, manager: WorkloadManager, clusters: ClusterView | None = None) -> None:
        self.manager = manager
        self.clusters = clusters
        self._lock = asyncio.Lock()

    async def SubmitWorkload(
        self,
        request: workloads_pb2.SubmitWorkloadRequest,
        context: grpc.aio.ServicerContext[
            workloads_pb2.SubmitWorkloadRequest, workloads_pb2.WorkloadStatus
        ],
    ) -> workloads_pb2.WorkloadStatus:
        if len(request.yaml.encode()) > MAX_DOCUMENT:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"the document is larger than {MAX_DOCUMENT} bytes",
            )
        async with self._lock:
            try:
                record = self.manager.submit(request.yaml)
            except WorkloadError as err:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
        return status_message(record, self.clusters)

    async def DeleteWorkload(
        self,
        request: workloads_pb2.DeleteWorkloadRequest,
        context: grpc.aio.ServicerContext[
            workloads_pb2.DeleteWorkloadRequest, workloads_pb2.DeleteWorkloadResponse
        ],
    ) -> workloads_pb2.DeleteWorkloadResponse:
        async with self._lock:
            if not self.manager.delete(request.name):
                await context.abort(
                    grpc.StatusCode.NOT_FOUND, f"no workload named {request.name!r}"
                )
        return workloads_pb2.DeleteWorkloadResponse()

    async def ListWorkloads(
        self,
        request: workloads_pb2.ListWorkloadsRequest,
        context: grpc.aio.ServicerContext[
            workloads_pb2.ListWorkloadsRequest, workloads_pb2.ListWorkloadsResponse
        ],
    ) -> workloads_pb2.ListWorkloadsResponse:
        records = sorted(self.manager.records.values(), key=lambda r: r.workload.name)
        return workloads_pb2.ListWorkloadsResponse(
            workloads=[status_message(r, self.clusters) for r in records]
        )

    async def GetWorkload(
        self,
        request: workloads_pb2.GetWorkloadRequest,
        context: grpc.aio.ServicerContext[
            workloads_pb2.GetWorkloadRequest, workloads_pb2.WorkloadStatus
        ],
    ) -> workloads_pb2.WorkloadStatus:
        record = await found(
            self.manager.records.get(request.name), context, f"no workload named {request.name!r}"
        )
        return status_message(record, self.clusters)

    async def ExplainWorkload(
        self,
        request: workloads_pb2.ExplainWorkloadRequest,
        context: grpc.aio.ServicerContext[
            workloads_pb2.ExplainWorkloadRequest, workloads_pb2.Explanation
        ],
    ) -> workloads_pb2.Explanation:
        record = await found(
            self.manager.records.get(request.name), context, f"no workload named {request.name!r}"
        )
        async with self._lock:
            result = self.manager.explain(request.name)
        return explanation_message(record, result)


class ReplicaRows:
    """The rows of `tongchou_workload_replicas` and `tongchou_cluster_available`."""

    def __init__(self, manager: WorkloadManager, clusters: ClusterView | None) -> None:
        self.manager = manager
        self.clusters = clusters

    def replica_rows(self) -> list[tuple[str, str, str, int]]:
        rows = []
        for name, record in sorted(self.manager.records.items()):
            rows.append((name, "", "desired", record.workload.replicas))
            for cluster, replicas in sorted(record.placed.items()):
                rows.append((name, cluster, "placed", replicas))
                ready = self.clusters.ready_of(cluster, name) if self.clusters else None
                if ready is not None:
                    rows.append((name, cluster, "ready", ready))
        return rows

    def cluster_rows(self) -> list[tuple[str, bool]]:
        return list(self.clusters.available().items()) if self.clusters else []
