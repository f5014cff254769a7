"""The hub's side of the API guard: division-scope hooks over the live inventory and workloads."""

from __future__ import annotations

from typing import Any

import grpc
import yaml

from console.hub.catalog import totals_message as _totals
from console.hub.inventory import Inventory, Totals
from console.hub.workloads import WorkloadManager
from console.security.authz import Guard, Refused
from console.security.roles import Principal
from tongchou.divisions import DivisionCodeError, check_code
from tongchou.v1 import inventory_pb2, policies_pb2, workloads_pb2

_SERVICE = "/tongchou.v1."


def _outside(principal: Principal, what: str) -> Refused:
    return Refused(
        grpc.StatusCode.PERMISSION_DENIED,
        "scope",
        f"{principal.actor} is scoped to {principal.scope}; {what} is outside it",
    )


def _division_filter(request: Any, principal: Principal) -> Any:
    """ListNodes and Watch: no division means the caller's scope; another subtree is refused."""
    if not request.division:
        request.division = principal.scope
    elif not _is_code(request.division):
        return request  # the handler answers INVALID_ARGUMENT, naming the field
    elif not principal.sees(request.division):
        raise _outside(principal, f"division {request.division}")
    return request


def _is_code(text: str) -> bool:
    try:
        check_code(text)
    except DivisionCodeError:
        return False
    return True


def _documents(text: str) -> list[dict[str, Any]]:
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return []  # the handler says what is wrong with the YAML
    return [d for d in docs if isinstance(d, dict)]


def _spec_field(doc: dict[str, Any], field: str) -> str | None:
    spec = doc.get("spec")
    value = spec.get(field) if isinstance(spec, dict) else None
    return value if isinstance(value, str) else None


def install(guard: Guard, inventory: Inventory, workloads: WorkloadManager) -> None:
    """Registers a scope hook for every scoped method of the table."""

    def get_node(request: inventory_pb2.GetNodeRequest, p: Principal) -> Any:
        entry = inventory.nodes.get(request.node)
        if entry is not None and not p.sees(entry.report.identity.division):
            raise _outside(p, f"node {request.node}")
        return request

    def summary(request: Any, _p: Principal) -> Any:
        return request  # the response is narrowed by the filter below

    def scoped_summary(response: inventory_pb2.FleetSummary, p: Principal) -> Any:
        total, levels = Totals(), dict[int, Totals]()
        divisions, sites, clusters = set(), set(), set()
        for entry in inventory.select(p.scope):
            ident = entry.report.identity
            total.add(entry)
            levels.setdefault(ident.level, Totals()).add(entry)
            divisions.add(ident.division)
            sites.add(ident.site)
            clusters.add(ident.cluster)
        out = inventory_pb2.FleetSummary(
            totals=_totals(total),
            divisions=len(divisions),
            sites=len(sites),
            clusters=len(clusters),
            reports_per_second=response.reports_per_second,
            report_interval=response.report_interval,
        )
        for level in sorted(levels):
            out.levels.append(inventory_pb2.LevelTotals(level=level, totals=_totals(levels[level])))  # type: ignore[arg-type]
        return out

    def watch_delta(delta: inventory_pb2.InventoryDelta, p: Principal) -> Any:
        """A scoped watcher's delta: its own totals, and events about its own nodes and
        workloads only (the nodes are already selected by division)."""

        def mine(subject: str) -> bool:
            entry = inventory.nodes.get(subject)
            if entry is not None:
                return p.sees(entry.report.identity.division)
            record = workloads.records.get(subject)
            return record is not None and p.sees(record.workload.owner)

        kept = [e for e in delta.events if mine(e.subject)]
        del delta.events[:]
        delta.events.extend(kept)
        if delta.HasField("summary"):
            delta.summary.CopyFrom(scoped_summary(delta.summary, p))
        return delta

    def by_name(request: Any, p: Principal) -> Any:
        record = workloads.records.get(request.name)
        if record is not None and not p.sees(record.workload.owner):
            raise _outside(p, f"workload {request.name} (owner {record.workload.owner})")
        return request

    def submit(request: workloads_pb2.SubmitWorkloadRequest, p: Principal) -> Any:
        for doc in _documents(request.yaml):
            owner = _spec_field(doc, "owner")
            if owner is not None and not p.sees(owner):
                raise _outside(p, f"owner {owner}")
            name = (
                doc.get("metadata", {}).get("name")
                if isinstance(doc.get("metadata"), dict)
                else None
            )
            record = workloads.records.get(name) if isinstance(name, str) else None
            if record is not None and not p.sees(record.workload.owner):
                raise _outside(p, f"workload {name} (owner {record.workload.owner})")
        return request

    def list_workloads(response: workloads_pb2.ListWorkloadsResponse, p: Principal) -> Any:
        kept = [w for w in response.workloads if p.sees(w.owner)]
        return workloads_pb2.ListWorkloadsResponse(workloads=kept)

    def run_plan(request: Any, p: Principal) -> Any:
        for doc in _documents(request.yaml):
            if doc.get("kind") == "Demand":
                division = _spec_field(doc, "division")
                if division is not None and not p.sees(division):
                    raise _outside(p, f"demand of division {division}")
        return request

    def site_division(name: str) -> str | None:
        site = workloads.documents.sites.get(name)
        if site is not None:
            return site.division
        return next(
            (e.report.identity.division for e in inventory.nodes.values()
             if e.report.identity.site == name),
            None,
        )  # fmt: skip

    def cluster_division(name: str) -> str | None:
        cluster = workloads.documents.clusters.get(name)
        if cluster is not None:
            return site_division(cluster.site)
        return next(
            (e.report.identity.division for e in inventory.nodes.values()
             if e.report.identity.cluster == name),
            None,
        )  # fmt: skip

    def get_division(request: inventory_pb2.GetDivisionRequest, p: Principal) -> Any:
        if _is_code(request.code) and not p.sees(request.code):
            raise _outside(p, f"division {request.code}")
        return request

    def get_site(request: inventory_pb2.GetSiteRequest, p: Principal) -> Any:
        division = site_division(request.name)
        if division is not None and not p.sees(division):
            raise _outside(p, f"site {request.name} (division {division})")
        return request

    def get_cluster(request: inventory_pb2.GetClusterRequest, p: Principal) -> Any:
        division = cluster_division(request.name)
        if division is not None and not p.sees(division):
            raise _outside(p, f"cluster {request.name} (division {division})")
        return request

    def policy_effects(response: policies_pb2.ListPoliciesResponse, _p: Principal) -> Any:
        """Counts stay; the names of clusters, which may lie outside the scope, go."""
        for policy in response.policies:
            del policy.removed_examples[:]
        return response

    guard.scopes.update(
        {
            _SERVICE + "InventoryService/ListDivisions": _division_filter,
            _SERVICE + "InventoryService/ListSites": _division_filter,
            _SERVICE + "InventoryService/ListClusters": _division_filter,
            _SERVICE + "InventoryService/GetDivision": get_division,
            _SERVICE + "InventoryService/GetSite": get_site,
            _SERVICE + "InventoryService/GetCluster": get_cluster,
            _SERVICE + "PolicyService/ListPolicies": lambda request, _p: request,
            _SERVICE + "PolicyService/CheckPolicies": lambda request, _p: request,
            _SERVICE + "InventoryService/ListNodes": _division_filter,
            _SERVICE + "InventoryService/Watch": _division_filter,
            _SERVICE + "InventoryService/GetNode": get_node,
            _SERVICE + "InventoryService/GetFleetSummary": summary,
            _SERVICE + "WorkloadService/SubmitWorkload": submit,
            _SERVICE + "WorkloadService/DeleteWorkload": by_name,
            _SERVICE + "WorkloadService/ExplainWorkload": by_name,
            _SERVICE + "WorkloadService/GetWorkload": by_name,
            _SERVICE + "WorkloadService/ListWorkloads": lambda request, _p: request,
            _SERVICE + "PlanService/RunPlan": run_plan,
        }
    )
    guard.filters.update(
        {
            _SERVICE + "PolicyService/ListPolicies": policy_effects,
            _SERVICE + "PolicyService/CheckPolicies": policy_effects,
            _SERVICE + "InventoryService/GetFleetSummary": scoped_summary,
            _SERVICE + "WorkloadService/ListWorkloads": list_workloads,
            _SERVICE + "InventoryService/Watch": watch_delta,
        }
    )
