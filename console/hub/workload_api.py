"""WorkloadService: submit, delete, list and explain workloads over gRPC."""

from __future__ import annotations

import asyncio

import grpc

from console.hub.workloads import WorkloadError, WorkloadManager, WorkloadRecord
from console.scheduler import Placement
from tongchou.v1 import workloads_pb2, workloads_pb2_grpc

MAX_DOCUMENT = 256 * 1024


def status_message(record: WorkloadRecord) -> workloads_pb2.WorkloadStatus:
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

    def __init__(self, manager: WorkloadManager) -> None:
        self.manager = manager
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
        return status_message(record)

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
        return workloads_pb2.ListWorkloadsResponse(workloads=[status_message(r) for r in records])

    async def ExplainWorkload(
        self,
        request: workloads_pb2.ExplainWorkloadRequest,
        context: grpc.aio.ServicerContext[
            workloads_pb2.ExplainWorkloadRequest, workloads_pb2.Explanation
        ],
    ) -> workloads_pb2.Explanation:
        record = self.manager.records.get(request.name)
        if record is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no workload named {request.name!r}")
        assert record is not None
        async with self._lock:
            result = self.manager.explain(request.name)
        return explanation_message(record, result)
