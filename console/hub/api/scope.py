"""Division scopes over the hub's API: a typed table from each scoped method of
`console.security.authz.METHODS` to the check of its request and the narrowing of its answer,
read from the live inventory and the workloads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import grpc
from google.protobuf.message import Message

from console.documents import DemandSpec, Document, WorkloadSpec
from console.hub.api import limits
from console.hub.api.intake import InputRefused, Intake
from console.hub.api.messages import scoped_summary
from console.hub.control.workloads import HELD_OUT, WorkloadManager
from console.hub.fleet.inventory import Inventory
from console.security.authz import Guard, Refused, Rule
from console.security.roles import Principal
from tongchou.divisions import DivisionCodeError, check_code, contains
from tongchou.v1 import inventory_pb2, plans_pb2, policies_pb2, rollup_pb2, workloads_pb2

Req = TypeVar("Req", bound=Message)
Resp = TypeVar("Resp", bound=Message)


class _HasDivision(Protocol):
    division: str


class _HasName(Protocol):
    name: str


D = TypeVar("D", bound=_HasDivision)
N = TypeVar("N", bound=_HasName)


def _outside(principal: Principal, what: str) -> Refused:
    return Refused(
        grpc.StatusCode.PERMISSION_DENIED,
        "scope",
        f"{principal.actor} is scoped to {principal.scope}; {what} is outside it",
    )


def _hidden(message: str) -> Refused:
    """Something outside the caller's scope gets the answer it would get if it were absent:
    the caller cannot tell whether a name exists (the refusal is still counted and audited)."""
    return Refused(grpc.StatusCode.NOT_FOUND, "scope", message)


class _AnyName(Collection[str]):
    """Every name counts as declared: what a scope check reads needs no links."""

    def __contains__(self, _name: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


class _Unlinked(Mapping[str, Collection[str]]):
    """Names of every kind count as declared."""

    def __getitem__(self, _kind: str) -> Collection[str]:
        return _ANY

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __bool__(self) -> bool:
        return True  # `known or {}` keeps it


_ANY = _AnyName()
_UNLINKED = _Unlinked()


def _is_code(text: str) -> bool:
    try:
        check_code(text)
    except DivisionCodeError:
        return False
    return True


class Scope:
    """What a caller scoped to a division may ask, and what it is shown. Documents are
    checked as the handler will use them: read once, typed, off the event loop (`intake`)."""

    def __init__(self, inventory: Inventory, workloads: WorkloadManager, intake: Intake) -> None:
        self.inventory = inventory
        self.workloads = workloads
        self.intake = intake

    # -- where things are --------------------------------------------------------------

    def site_division(self, name: str) -> str | None:
        site = self.workloads.documents.sites.get(name)
        if site is not None:
            return site.division
        return next(
            (e.identity.division for e in self.inventory.nodes.values() if e.identity.site == name),
            None,
        )

    def cluster_division(self, name: str) -> str | None:
        cluster = self.workloads.documents.clusters.get(name)
        if cluster is not None:
            return self.site_division(cluster.site)
        return next(
            (
                e.identity.division
                for e in self.inventory.nodes.values()
                if e.identity.cluster == name
            ),
            None,
        )

    def _workload(self, name: str, p: Principal) -> None:
        record = self.workloads.records.get(name)
        if record is not None and not p.sees(record.workload.owner):
            raise _hidden(f"no workload named {name!r}")

    # -- requests ----------------------------------------------------------------------

    def division_filter(self, request: D, p: Principal) -> D:
        """No division means the caller's scope; another subtree is refused."""
        if not request.division:
            request.division = p.scope
        elif not _is_code(request.division):
            return request  # the handler answers INVALID_ARGUMENT, naming the field
        elif not p.sees(request.division):
            raise _outside(p, f"division {request.division}")
        return request

    def get_division(
        self, request: inventory_pb2.GetDivisionRequest, p: Principal
    ) -> inventory_pb2.GetDivisionRequest:
        if _is_code(request.code) and not p.sees(request.code):
            raise _hidden(f"no division {request.code!r} in the fleet")
        return request

    def get_site(
        self, request: inventory_pb2.GetSiteRequest, p: Principal
    ) -> inventory_pb2.GetSiteRequest:
        division = self.site_division(request.name)
        if division is not None and not p.sees(division):
            raise _hidden(f"no site named {request.name!r}")
        return request

    def get_cluster(
        self, request: inventory_pb2.GetClusterRequest, p: Principal
    ) -> inventory_pb2.GetClusterRequest:
        division = self.cluster_division(request.name)
        if division is not None and not p.sees(division):
            raise _hidden(f"no cluster named {request.name!r}")
        return request

    def get_node(
        self, request: inventory_pb2.GetNodeRequest, p: Principal
    ) -> inventory_pb2.GetNodeRequest:
        entry = self.inventory.nodes.get(request.node)
        if entry is not None and not p.sees(entry.identity.division):
            raise _hidden(f"no node named {request.node!r}")
        return request

    def by_name(self, request: N, p: Principal) -> N:
        """Delete, scale, get (its document too) and explain a workload: only of an owner in
        the scope."""
        self._workload(request.name, p)
        return request

    async def _documents(
        self, text: str, origin: str, max_bytes: int, known: dict[str, Collection[str]]
    ) -> list[Document] | None:
        """The documents as the handler reads them; when that fails, as read with every name
        counted as declared, so that a division outside the scope is refused alike whether the
        fleet holds it or not. None: unreadable even so, and the handler answers with that
        read's error, which says nothing of which names the fleet holds."""
        try:
            return await self.intake.read(text, origin, max_bytes=max_bytes, known=known)
        except InputRefused:
            pass
        try:
            return await self.intake.read(text, origin, max_bytes=max_bytes, known=_UNLINKED)
        except InputRefused as err:
            self.intake.answer(text, known, err)
            return None

    def _division(self, p: Principal, what: str, code: str | None, *, above: bool = False) -> None:
        """A division a scoped caller names: in its own subtree, or with `above` (a residency)
        also one of the divisions above it, which its own code already tells."""
        if code is None or p.sees(code) or (above and p.scope and contains(code, p.scope)):
            return
        raise _outside(p, f"{what} {code}")

    async def submit(
        self, request: workloads_pb2.SubmitWorkloadRequest, p: Principal
    ) -> workloads_pb2.SubmitWorkloadRequest:
        documents = await self._documents(
            request.yaml,
            limits.SUBMITTED_WORKLOAD,
            limits.MAX_WORKLOAD_BYTES,
            self.workloads.known(),
        )
        for doc in documents or ():
            if doc.kind != "Workload":
                continue
            spec = doc.spec_as(WorkloadSpec)
            self._division(p, "owner", spec.owner)
            self._division(p, "residency", spec.residency, above=True)
            record = self.workloads.records.get(doc.name)
            if record is not None and not p.sees(record.workload.owner):
                # names are one namespace: a taken one cannot be hidden, but its owner is
                raise _outside(p, f"the name of workload {doc.name}")
        return request

    async def run_plan(
        self, request: plans_pb2.RunPlanRequest, p: Principal
    ) -> plans_pb2.RunPlanRequest:
        documents = await self._documents(
            request.yaml,
            limits.SUBMITTED_PLAN,
            limits.MAX_PLAN_BYTES,
            self.workloads.known(planning=True),
        )
        for doc in documents or ():
            if doc.kind == "Demand":  # its residency holds its division: the loader checks
                self._division(p, "demand of division", doc.spec_as(DemandSpec).division)
        return request

    def unchanged(self, request: Req, _p: Principal) -> Req:
        """The request stands; the answer is narrowed by the method's filter."""
        return request

    # -- answers -----------------------------------------------------------------------

    def summary(
        self, response: inventory_pb2.FleetSummary, p: Principal
    ) -> inventory_pb2.FleetSummary:
        return scoped_summary(self.inventory, p.scope, response)

    def watch_delta(
        self, delta: inventory_pb2.InventoryDelta, p: Principal
    ) -> inventory_pb2.InventoryDelta:
        """Its own totals, and events about its own nodes and workloads only, the others'
        counted (its nodes are already selected by division, the others counted)."""

        def mine(subject: str) -> bool:
            entry = self.inventory.nodes.get(subject)
            if entry is not None:
                return p.sees(entry.identity.division)
            record = self.workloads.records.get(subject)
            return record is not None and p.sees(record.workload.owner)

        kept = [e for e in delta.events if mine(e.subject)]
        delta.events_elsewhere += len(delta.events) - len(kept)
        del delta.events[:]
        delta.events.extend(kept)
        if delta.HasField("summary"):
            delta.summary.CopyFrom(self.summary(delta.summary, p))
        return delta

    def list_workloads(
        self, response: workloads_pb2.ListWorkloadsResponse, p: Principal
    ) -> workloads_pb2.ListWorkloadsResponse:
        kept = [self.status(w, p) for w in response.workloads if p.sees(w.owner)]
        return workloads_pb2.ListWorkloadsResponse(workloads=kept)

    def status(
        self, response: workloads_pb2.WorkloadStatus, p: Principal
    ) -> workloads_pb2.WorkloadStatus:
        """The clusters failover holds out, named in the reason: those in the scope by name,
        the others as a count."""
        head, held, names = response.reason.partition(HELD_OUT)
        if held:
            clusters = names.split(", ")
            mine = [c for c in clusters if self._sees_cluster(c, p)]
            others = len(clusters) - len(mine)
            if others:
                mine.append(
                    f"{others} {'cluster' if others == 1 else 'clusters'} outside {p.scope}"
                )
            response.reason = head + held + ", ".join(mine)
        return response

    def _sees_cluster(self, name: str, p: Principal) -> bool:
        division = self.cluster_division(name)
        return division is not None and p.sees(division)

    def explanation(
        self, response: workloads_pb2.Explanation, p: Principal
    ) -> workloads_pb2.Explanation:
        """The verdicts of clusters in the scope; of a cluster outside it that holds replicas
        of the workload, only its name and replicas; the rest as a count."""
        kept, hidden = [], 0
        for verdict in response.clusters:
            division = self.cluster_division(verdict.cluster)
            if division is not None and p.sees(division):
                kept.append(verdict)
            elif verdict.replicas:
                kept.append(
                    workloads_pb2.ClusterVerdict(
                        cluster=verdict.cluster, site=verdict.site, replicas=verdict.replicas
                    )
                )
            else:
                hidden += 1
        del response.clusters[:]
        response.clusters.extend(kept)
        if hidden:
            response.summary += f" ({hidden} clusters outside {p.scope} not shown)"
        return response

    def policy_effects(
        self, response: policies_pb2.ListPoliciesResponse, _p: Principal
    ) -> policies_pb2.ListPoliciesResponse:
        """Counts stay; the names of clusters, which may lie outside the scope, go."""
        for policy in response.policies:
            del policy.removed_examples[:]
        return response


@dataclass(frozen=True, slots=True)
class Scoped(Generic[Req, Resp]):
    """One scoped method: its request and response types, the check of the request, and
    the narrowing of each answer (None: the answer needs none)."""

    request: type[Req]
    response: type[Resp]
    check: Callable[[Scope, Req, Principal], Req | Awaitable[Req]]
    narrow: Callable[[Scope, Resp, Principal], Resp] | None = None


_INV, _WL, _POL, _PLAN = "InventoryService", "WorkloadService", "PolicyService", "PlanService"

TABLE: dict[tuple[str, str], Scoped[Any, Any]] = {
    (_INV, "GetFleetSummary"): Scoped(
        inventory_pb2.GetFleetSummaryRequest,
        inventory_pb2.FleetSummary,
        Scope.unchanged,
        Scope.summary,
    ),
    (_INV, "ListNodes"): Scoped(
        inventory_pb2.ListNodesRequest,
        inventory_pb2.ListNodesResponse,
        Scope.division_filter,
    ),
    (_INV, "GetNode"): Scoped(inventory_pb2.GetNodeRequest, inventory_pb2.Node, Scope.get_node),
    (_INV, "Watch"): Scoped(
        inventory_pb2.WatchRequest,
        inventory_pb2.InventoryDelta,
        Scope.division_filter,
        Scope.watch_delta,
    ),
    (_INV, "ListDivisions"): Scoped(
        inventory_pb2.ListDivisionsRequest,
        inventory_pb2.ListDivisionsResponse,
        Scope.division_filter,
    ),
    (_INV, "GetDivision"): Scoped(
        inventory_pb2.GetDivisionRequest,
        inventory_pb2.Division,
        Scope.get_division,
    ),
    (_INV, "ListSites"): Scoped(
        inventory_pb2.ListSitesRequest,
        inventory_pb2.ListSitesResponse,
        Scope.division_filter,
    ),
    (_INV, "GetSite"): Scoped(inventory_pb2.GetSiteRequest, inventory_pb2.Site, Scope.get_site),
    (_INV, "ListClusters"): Scoped(
        inventory_pb2.ListClustersRequest,
        inventory_pb2.ListClustersResponse,
        Scope.division_filter,
    ),
    (_INV, "GetCluster"): Scoped(
        inventory_pb2.GetClusterRequest, inventory_pb2.Cluster, Scope.get_cluster
    ),
    (_INV, "ListPlatformInstances"): Scoped(
        inventory_pb2.ListPlatformInstancesRequest,
        inventory_pb2.ListPlatformInstancesResponse,
        Scope.division_filter,
    ),
    (_POL, "ListPolicies"): Scoped(
        policies_pb2.ListPoliciesRequest,
        policies_pb2.ListPoliciesResponse,
        Scope.unchanged,
        Scope.policy_effects,
    ),
    (_POL, "CheckPolicies"): Scoped(
        policies_pb2.CheckPoliciesRequest,
        policies_pb2.ListPoliciesResponse,
        Scope.unchanged,
        Scope.policy_effects,
    ),
    (_WL, "SubmitWorkload"): Scoped(
        workloads_pb2.SubmitWorkloadRequest,
        workloads_pb2.WorkloadStatus,
        Scope.submit,
        Scope.status,
    ),
    (_WL, "DeleteWorkload"): Scoped(
        workloads_pb2.DeleteWorkloadRequest,
        workloads_pb2.DeleteWorkloadResponse,
        Scope.by_name,
    ),
    (_WL, "ScaleWorkload"): Scoped(
        workloads_pb2.ScaleWorkloadRequest, workloads_pb2.WorkloadStatus, Scope.by_name
    ),
    (_WL, "GetWorkloadDocument"): Scoped(
        workloads_pb2.GetWorkloadRequest, workloads_pb2.WorkloadDocument, Scope.by_name
    ),
    (_WL, "ListWorkloads"): Scoped(
        workloads_pb2.ListWorkloadsRequest,
        workloads_pb2.ListWorkloadsResponse,
        Scope.unchanged,
        Scope.list_workloads,
    ),
    (_WL, "GetWorkload"): Scoped(
        workloads_pb2.GetWorkloadRequest,
        workloads_pb2.WorkloadStatus,
        Scope.by_name,
        Scope.status,
    ),
    (_WL, "ExplainWorkload"): Scoped(
        workloads_pb2.ExplainWorkloadRequest,
        workloads_pb2.Explanation,
        Scope.by_name,
        Scope.explanation,
    ),
    (_PLAN, "RunPlan"): Scoped(plans_pb2.RunPlanRequest, plans_pb2.PlanEvent, Scope.run_plan),
}
"""Every scoped method a scoped user may call, with its check and filter."""

_ROLLUP = "RollupService"
REFUSED: frozenset[tuple[str, str]] = frozenset(
    {
        (_PLAN, "ListPlans"), (_PLAN, "GetPlan"), (_PLAN, "SubmitPlan"),
        (_ROLLUP, "ListProvinces"), (_ROLLUP, "GetProvince"),
    }
)  # fmt: skip
"""Scoped methods refused to scoped users: a plan covers the demands of every division, a
national hub's roll-up every province."""

_FILES = {
    _INV: inventory_pb2.DESCRIPTOR,
    _WL: workloads_pb2.DESCRIPTOR,
    _POL: policies_pb2.DESCRIPTOR,
    _PLAN: plans_pb2.DESCRIPTOR,
    _ROLLUP: rollup_pb2.DESCRIPTOR,
}


def method_path(service: str, method: str) -> str:
    """The gRPC path of a method, checked against the wire contract (KeyError if unknown)."""
    found = _FILES[service].services_by_name[service].methods_by_name[method]
    return f"/{found.containing_service.full_name}/{found.name}"


def mistyped() -> list[str]:
    """Entries whose request or response type is not the one the wire contract names."""
    out = []
    for (service, name), entry in TABLE.items():
        found = _FILES[service].services_by_name[service].methods_by_name[name]
        if entry.request.DESCRIPTOR is not found.input_type:
            out.append(f"{service}/{name}: request")
        if entry.response.DESCRIPTOR is not found.output_type:
            out.append(f"{service}/{name}: response")
    return out


def _bind(scope: Scope, hook: Callable[[Scope, Any, Principal], Any]) -> Callable[..., Any]:
    return lambda message, principal: hook(scope, message, principal)


def unmatched(methods: Mapping[str, Rule]) -> list[str]:
    """Scoped methods of the permission table that this table neither checks nor refuses,
    and methods here that the permission table does not scope: both should be empty."""
    known = {method_path(*key) for key in (*TABLE, *REFUSED)}
    scoped = {path for path, rule in methods.items() if rule.scoped}
    return sorted(known ^ scoped)


def install(guard: Guard, inventory: Inventory, workloads: WorkloadManager, intake: Intake) -> None:
    """Registers the table's check and filter of every scoped method."""
    scope = Scope(inventory, workloads, intake)
    for (service, name), entry in TABLE.items():
        path = method_path(service, name)
        guard.scopes[path] = _bind(scope, entry.check)
        if entry.narrow is not None:
            guard.filters[path] = _bind(scope, entry.narrow)
