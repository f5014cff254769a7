"""A Workload document submitted to the hub: read off the event loop, stored durably, then
scheduled; one change at a time, whether it comes alone or with the rest of a plan."""

from __future__ import annotations

import asyncio

from console.hub.api import limits
from console.hub.api.intake import Intake
from console.hub.api.messages import status_message
from console.hub.control.clusters import ClusterView
from console.hub.control.workloads import WorkloadManager
from tongchou.v1 import workloads_pb2

MAX_DOCUMENT = limits.MAX_WORKLOAD_BYTES


class Submissions:
    """Shared by WorkloadService and PlanService.SubmitPlan; `lock` orders every change."""

    def __init__(
        self,
        manager: WorkloadManager,
        clusters: ClusterView | None = None,
        intake: Intake | None = None,
    ) -> None:
        self.manager = manager
        self.clusters = clusters
        self.intake = intake or Intake()
        self.lock = asyncio.Lock()

    async def submit(self, text: str) -> workloads_pb2.WorkloadStatus:
        """The workload's status after its first scheduling pass. InputRefused,
        WorkloadError or StoreUnavailable say why it was not taken (nothing changed)."""
        documents = await self.intake.read(
            text, limits.SUBMITTED_WORKLOAD, max_bytes=MAX_DOCUMENT, known=self.manager.known()
        )
        workload = self.manager.workload_of(documents)
        async with self.lock:
            record = await self.manager.submit_durably(workload, text)
        return status_message(record, self.clusters)
