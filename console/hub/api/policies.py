"""PolicyService: the loaded placement policies with their effect now, and a dry check of
candidate policies against the same workloads and clusters."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from console.documents import LoadError, load_text, policies_of
from console.hub.api.messages import policies_message
from console.hub.control.workloads import WorkloadManager
from console.model.workload import PlacementPolicy
from tongchou.v1 import policies_pb2, policies_pb2_grpc

MAX_DOCUMENT = 256 * 1024


class PolicyApi(policies_pb2_grpc.PolicyServiceServicer):
    def __init__(self, manager: WorkloadManager) -> None:
        self.manager = manager

    def _answer(self, policies: Sequence[PlacementPolicy]) -> policies_pb2.ListPoliciesResponse:
        effects, clusters = self.manager.effects(policies)
        return policies_message(policies, effects, clusters, len(self.manager.records))

    async def ListPolicies(
        self,
        request: policies_pb2.ListPoliciesRequest,
        context: grpc.aio.ServicerContext[
            policies_pb2.ListPoliciesRequest, policies_pb2.ListPoliciesResponse
        ],
    ) -> policies_pb2.ListPoliciesResponse:
        return self._answer(self.manager.policies)

    async def CheckPolicies(
        self,
        request: policies_pb2.CheckPoliciesRequest,
        context: grpc.aio.ServicerContext[
            policies_pb2.CheckPoliciesRequest, policies_pb2.ListPoliciesResponse
        ],
    ) -> policies_pb2.ListPoliciesResponse:
        if len(request.yaml.encode()) > MAX_DOCUMENT:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"the documents are too large (at most {MAX_DOCUMENT // 1024} KiB)",
            )
        try:
            documents = load_text(request.yaml, "submitted policies")
        except LoadError as err:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
            raise AssertionError("abort returns only by raising") from err
        others = sorted({d.kind for d in documents if d.kind != "PlacementPolicy"})
        if others or not documents:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                "submit PlacementPolicy documents only"
                + (f" (got {', '.join(others)})" if others else " (got none)"),
            )
        policies = policies_of(documents)
        return self._answer(policies)
