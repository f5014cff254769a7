"""InventoryService: the fleet summary, the nodes, divisions, sites and clusters, and the watch
stream, read from the live inventory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from console.hub.api.answers import found
from console.hub.api.catalog import Catalog
from console.hub.api.messages import fleet_summary, node_message
from console.hub.api.watch import Watchers
from console.hub.control.workloads import WorkloadManager, WorkloadRecord
from console.hub.fleet.inventory import Inventory
from console.hub.fleet.pacing import Pacer
from console.model.fleet import Fleet
from console.model.inventory import NodeState
from console.model.planning import Platform
from tongchou import states
from tongchou.divisions import DivisionCodeError, check_code, contains
from tongchou.v1 import inventory_pb2, inventory_pb2_grpc

MAX_PAGE = 5000
DEFAULT_PAGE = 500


class InventoryQuery(inventory_pb2_grpc.InventoryServiceServicer):
    """Answers from memory; never touches the store."""

    def __init__(
        self,
        inventory: Inventory,
        fleet: Fleet,
        pacer: Pacer,
        *,
        watchers: Watchers | None = None,
        workloads: WorkloadManager | None = None,
        platforms: tuple[Platform, ...] = (),
    ) -> None:
        self.inventory = inventory
        self.fleet = fleet
        self.pacer = pacer
        self.watchers = watchers
        self.workloads = workloads
        self.platforms = platforms  # the shared-platform catalog (--catalog)
        # one live fleet for the catalog and the scheduler
        self.catalog = Catalog(inventory, workloads.live if workloads is not None else None)

    def _records(self) -> list[WorkloadRecord]:
        return list(self.workloads.records.values()) if self.workloads is not None else []

    async def Watch(
        self,
        request: inventory_pb2.WatchRequest,
        context: grpc.aio.ServicerContext[inventory_pb2.WatchRequest, inventory_pb2.InventoryDelta],
    ) -> AsyncIterator[inventory_pb2.InventoryDelta]:
        if request.division:
            try:
                check_code(request.division)
            except DivisionCodeError as err:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"division: {err}")
        watchers = self.watchers
        if watchers is None:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the hub is starting")
            return
        watcher = watchers.subscribe(request.division)
        try:
            async for delta in watchers.stream(watcher):
                yield delta
        finally:
            watchers.unsubscribe(watcher)

    async def GetFleetSummary(
        self,
        request: inventory_pb2.GetFleetSummaryRequest,
        context: grpc.aio.ServicerContext[
            inventory_pb2.GetFleetSummaryRequest, inventory_pb2.FleetSummary
        ],
    ) -> inventory_pb2.FleetSummary:
        return fleet_summary(self.inventory, self.fleet, self.pacer)

    async def ListNodes(
        self,
        request: inventory_pb2.ListNodesRequest,
        context: grpc.aio.ServicerContext[
            inventory_pb2.ListNodesRequest, inventory_pb2.ListNodesResponse
        ],
    ) -> inventory_pb2.ListNodesResponse:
        if request.page_size > MAX_PAGE:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"page_size must be at most {MAX_PAGE}"
            )
        if request.division:
            try:
                check_code(request.division)
            except DivisionCodeError as err:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"division: {err}")
        state = None
        if request.state:
            if not (named := states.name(request.state)):
                message = f"state: {request.state} is not a node state (ready, stale or lost)"
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, message)
            state = NodeState(named)
        size = request.page_size or DEFAULT_PAGE
        response = inventory_pb2.ListNodesResponse()
        matched = 0
        for entry in self.inventory.select(request.division, state):
            matched += 1
            if entry.name > request.page_token and len(response.nodes) < size:
                response.nodes.append(node_message(entry))
        response.total = matched
        if len(response.nodes) == size and response.nodes[-1].identity.node:
            last = response.nodes[-1].identity.node
            if any(True for _ in self.inventory.select(request.division, state, after=last)):
                response.next_page_token = last
        return response

    async def GetNode(
        self,
        request: inventory_pb2.GetNodeRequest,
        context: grpc.aio.ServicerContext[inventory_pb2.GetNodeRequest, inventory_pb2.Node],
    ) -> inventory_pb2.Node:
        entry = self.inventory.nodes.get(request.node)
        return node_message(await found(entry, context, f"no node named {request.node!r}"))

    # -- divisions, sites and clusters ---------------------------------------------------

    async def ListDivisions(
        self,
        request: inventory_pb2.ListDivisionsRequest,
        context: grpc.aio.ServicerContext[
            inventory_pb2.ListDivisionsRequest, inventory_pb2.ListDivisionsResponse
        ],
    ) -> inventory_pb2.ListDivisionsResponse:
        scope = await _scope(request.division, context)
        divisions = self.catalog.divisions(self.fleet)
        return inventory_pb2.ListDivisionsResponse(
            divisions=[d for d in divisions if not scope or contains(scope, d.code)]
        )

    async def GetDivision(
        self,
        request: inventory_pb2.GetDivisionRequest,
        context: grpc.aio.ServicerContext[inventory_pb2.GetDivisionRequest, inventory_pb2.Division],
    ) -> inventory_pb2.Division:
        code = await _scope(request.code, context, "code")
        division = self.catalog.division(self.fleet, code)
        return await found(division, context, f"no division {code!r} in the fleet")

    async def ListSites(
        self,
        request: inventory_pb2.ListSitesRequest,
        context: grpc.aio.ServicerContext[
            inventory_pb2.ListSitesRequest, inventory_pb2.ListSitesResponse
        ],
    ) -> inventory_pb2.ListSitesResponse:
        scope = await _scope(request.division, context)
        sites = self.catalog.sites(self.fleet, self._records())
        return inventory_pb2.ListSitesResponse(
            sites=[s for s in sites if not scope or contains(scope, s.division)]
        )

    async def GetSite(
        self,
        request: inventory_pb2.GetSiteRequest,
        context: grpc.aio.ServicerContext[inventory_pb2.GetSiteRequest, inventory_pb2.Site],
    ) -> inventory_pb2.Site:
        site = self.catalog.site(self.fleet, self._records(), request.name)
        return await found(site, context, f"no site named {request.name!r}")

    async def ListClusters(
        self,
        request: inventory_pb2.ListClustersRequest,
        context: grpc.aio.ServicerContext[
            inventory_pb2.ListClustersRequest, inventory_pb2.ListClustersResponse
        ],
    ) -> inventory_pb2.ListClustersResponse:
        scope = await _scope(request.division, context)
        clusters = self.catalog.clusters(self.fleet, self._records())
        return inventory_pb2.ListClustersResponse(
            clusters=[c for c in clusters if not scope or contains(scope, c.division)]
        )

    async def GetCluster(
        self,
        request: inventory_pb2.GetClusterRequest,
        context: grpc.aio.ServicerContext[inventory_pb2.GetClusterRequest, inventory_pb2.Cluster],
    ) -> inventory_pb2.Cluster:
        cluster = self.catalog.cluster(self.fleet, self._records(), request.name)
        return await found(cluster, context, f"no cluster named {request.name!r}")

    async def ListPlatformInstances(
        self,
        request: inventory_pb2.ListPlatformInstancesRequest,
        context: grpc.aio.ServicerContext[
            inventory_pb2.ListPlatformInstancesRequest,
            inventory_pb2.ListPlatformInstancesResponse,
        ],
    ) -> inventory_pb2.ListPlatformInstancesResponse:
        scope = await _scope(request.division, context)
        return inventory_pb2.ListPlatformInstancesResponse(
            instances=self.catalog.platform_instances(self.fleet, self.platforms, scope)
        )


async def _scope(
    code: str, context: grpc.aio.ServicerContext[Any, Any], field: str = "division"
) -> str:
    """A division code from a request (empty: the whole fleet); INVALID_ARGUMENT if malformed."""
    if code:
        try:
            check_code(code)
        except DivisionCodeError as err:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{field}: {err}")
    return code
