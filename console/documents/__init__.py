"""Input documents: YAML files of Kubernetes-style documents, validated into domain objects.

`load_fleet(paths)` reads divisions, sites, clusters, nodes and node pools into a Fleet;
`load_documents(paths)` returns the validated documents of every registered kind;
`planning_input(documents)` turns the planner's kinds into a PlanningInput. The loaders
raise LoadError, whose `errors` name file, document, field and line. A new kind is a
spec model (a SpecModel subclass) and a converter, registered with `register(Kind(...))`.
"""

from __future__ import annotations

from console.documents.errors import MAX_ERRORS, DocumentError, LoadError
from console.documents.fleet import POOL_LABEL, build_fleet
from console.documents.kinds import (
    API_VERSION,
    Document,
    Kind,
    Ref,
    SpecModel,
    StatusModel,
    known_kinds,
    lookup,
    register,
    unregister,
)
from console.documents.loader import load_documents, load_fleet, load_text
from console.documents.placement import (
    PlacementPolicySpec,
    WorkloadSpec,
    policies_of,
    workloads_of,
)
from console.documents.planning import (
    DemandSpec,
    PlanningInputError,
    PlanningPolicySpec,
    PlatformSpec,
    ServerSkuSpec,
    planning_input,
)
from console.documents.specs import (
    ARCHS,
    COMPUTE_HUBS,
    ClusterSpec,
    DivisionSpec,
    NodePoolSpec,
    NodeSpec,
    NodeStatus,
    SiteSpec,
)

__all__ = [
    "API_VERSION",
    "ARCHS",
    "COMPUTE_HUBS",
    "MAX_ERRORS",
    "POOL_LABEL",
    "ClusterSpec",
    "DemandSpec",
    "DivisionSpec",
    "Document",
    "DocumentError",
    "Kind",
    "LoadError",
    "NodePoolSpec",
    "NodeSpec",
    "NodeStatus",
    "PlacementPolicySpec",
    "PlanningInputError",
    "PlanningPolicySpec",
    "PlatformSpec",
    "Ref",
    "ServerSkuSpec",
    "SiteSpec",
    "SpecModel",
    "StatusModel",
    "WorkloadSpec",
    "build_fleet",
    "known_kinds",
    "load_documents",
    "load_fleet",
    "load_text",
    "lookup",
    "planning_input",
    "policies_of",
    "register",
    "unregister",
    "workloads_of",
]
