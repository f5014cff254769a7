"""WorkloadService: submit, scale, delete, list and explain workloads over gRPC."""

from __future__ import annotations

import asyncio

import grpc

from console.hub.api import limits
from console.hub.api.answers import found
from console.hub.api.intake import InputRefused, Intake
from console.hub.api.messages import explanation_message, status_message
from console.hub.api.submission import Submissions
from console.hub.control.clusters import ClusterView
from console.hub.control.scale import NotScalable, with_replicas
from console.hub.control.workloads import WorkloadError, WorkloadManager
from console.store.offloop import StoreUnavailable
from tongchou.v1 import workloads_pb2, workloads_pb2_grpc

MAX_DOCUMENT = limits.MAX_WORKLOAD_BYTES


def unavailable(err: StoreUnavailable) -> str:
    if err.timed_out:  # the write may still land: the store ahead of memory, until a restart
        return f"{err}; the change was not confirmed: list the workloads, then send it again"
    return f"{err}; nothing was changed: try again when the hub's store has room"


class WorkloadApi(workloads_pb2_grpc.WorkloadServiceServicer):
    """Thin: every decision is the WorkloadManager's; one change at a time."""

    def __init__(
        self,
        manager: WorkloadManager,
        clusters: ClusterView | None = None,
        intake: Intake | None = None,
        submissions: Submissions | None = None,
    ) -> None:
        self.manager = manager
        self.clusters = clusters
        self.intake = intake or Intake()
        self.submissions = submissions or Submissions(manager, clusters, self.intake)
        self._lock = self.submissions.lock  # one change at a time, a plan's included

    async def SubmitWorkload(
        self,
        request: workloads_pb2.SubmitWorkloadRequest,
        context: grpc.aio.ServicerContext[
            workloads_pb2.SubmitWorkloadRequest, workloads_pb2.WorkloadStatus
        ],
    ) -> workloads_pb2.WorkloadStatus:
        try:
            return await self.submissions.submit(request.yaml)
        except InputRefused as err:
            await context.abort(err.code, err.message)
        except WorkloadError as err:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
        except StoreUnavailable as err:
            await context.abort(grpc.StatusCode.UNAVAILABLE, unavailable(err))

    async def ScaleWorkload(
        self,
        request: workloads_pb2.ScaleWorkloadRequest,
        context: grpc.aio.ServicerContext[
            workloads_pb2.ScaleWorkloadRequest, workloads_pb2.WorkloadStatus
        ],
    ) -> workloads_pb2.WorkloadStatus:
        """The stored document with the new count goes the way of a submission: read and
        checked off the event loop, stored first, then scheduled."""
        record = await found(
            self.manager.records.get(request.name), context, f"no workload named {request.name!r}"
        )
        try:
            text = await asyncio.to_thread(with_replicas, record.document, request.replicas)
            documents = await self.intake.read(
                text, limits.SUBMITTED_WORKLOAD, max_bytes=MAX_DOCUMENT, known=self.manager.known()
            )
            workload = self.manager.workload_of(documents)
        except InputRefused as err:
            await context.abort(
                err.code, f"scale {request.name} to {request.replicas}: {err.message}"
            )
        except (WorkloadError, NotScalable) as err:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"scale {request.name} to {request.replicas}: {err}",
            )
        async with self._lock:
            if request.name not in self.manager.records:  # deleted meanwhile
                await context.abort(
                    grpc.StatusCode.NOT_FOUND, f"no workload named {request.name!r}"
                )
            try:
                record = await self.manager.submit_durably(workload, text)
            except StoreUnavailable as err:
                await context.abort(grpc.StatusCode.UNAVAILABLE, unavailable(err))
        return status_message(record, self.clusters)

    async def GetWorkloadDocument(
        self,
        request: workloads_pb2.GetWorkloadRequest,
        context: grpc.aio.ServicerContext[
            workloads_pb2.GetWorkloadRequest, workloads_pb2.WorkloadDocument
        ],
    ) -> workloads_pb2.WorkloadDocument:
        record = await found(
            self.manager.records.get(request.name), context, f"no workload named {request.name!r}"
        )
        return workloads_pb2.WorkloadDocument(name=request.name, yaml=record.document)

    async def DeleteWorkload(
        self,
        request: workloads_pb2.DeleteWorkloadRequest,
        context: grpc.aio.ServicerContext[
            workloads_pb2.DeleteWorkloadRequest, workloads_pb2.DeleteWorkloadResponse
        ],
    ) -> workloads_pb2.DeleteWorkloadResponse:
        async with self._lock:
            try:
                deleted = await self.manager.delete_durably(request.name)
            except StoreUnavailable as err:
                await context.abort(grpc.StatusCode.UNAVAILABLE, unavailable(err))
            if not deleted:
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
