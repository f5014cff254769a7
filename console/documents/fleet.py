"""Registers the fleet kinds and converts their documents into a console.model Fleet."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType

from console.documents.codes import problem
from console.documents.kinds import Document, Kind, register
from console.documents.specs import (
    AmountSpec,
    CapacitySpec,
    ClusterSpec,
    DivisionSpec,
    NodePoolSpec,
    NodeSpec,
    NodeStatus,
    SiteSpec,
)
from console.model.fleet import Cluster, Division, Fleet, Node, Resources, Site
from tongchou.divisions import DivisionCodeError, check_code, level_of

POOL_LABEL = "tongchou.io/pool"
"""Label set on every node expanded from a NodePool: the pool's name."""


def _code_problem(name: str) -> str | None:
    try:
        return problem(check_code(name))
    except DivisionCodeError as err:
        return str(err)


def _division(doc: Document) -> Iterator[Division]:
    spec = doc.spec_as(DivisionSpec)
    yield Division(doc.name, spec.name, level_of(doc.name), spec.parent)


def _site(doc: Document) -> Iterator[Site]:
    spec = doc.spec_as(SiteSpec)
    yield Site(
        name=doc.name,
        division=spec.division,
        provider=spec.provider,
        compute_hub=spec.compute_hub,
        power_price_cny_per_kwh=spec.power_price_cny_per_kwh,
        pue=spec.pue,
        free_server_slots=spec.free_server_slots,
    )


def _cluster(doc: Document) -> Iterator[Cluster]:
    spec = doc.spec_as(ClusterSpec)
    yield Cluster(doc.name, spec.site, spec.mlps_level, spec.shared, spec.kube_context)


def _resources(amount: CapacitySpec | AmountSpec) -> Resources:
    return Resources(amount.cpu, amount.memory, amount.disk, amount.gpu)


def _nodes(doc: Document, names: Iterable[str], labels: Mapping[str, str]) -> Iterator[Node]:
    spec = doc.spec_as(NodeSpec)
    capacity = _resources(spec.capacity)
    allocated, usage = Resources(), None
    if isinstance(doc.status, NodeStatus):
        if doc.status.allocated is not None:
            allocated = _resources(doc.status.allocated)
        if doc.status.usage is not None:
            usage = _resources(doc.status.usage)
    for name in names:
        yield Node(name, spec.cluster, spec.arch, spec.chip, capacity, allocated, usage, labels)


def _node(doc: Document) -> Iterator[Node]:
    return _nodes(doc, (doc.name,), doc.labels)


def _node_pool(doc: Document) -> Iterator[Node]:
    spec = doc.spec_as(NodePoolSpec)
    labels = MappingProxyType({**doc.labels, POOL_LABEL: doc.name})
    return _nodes(doc, spec.declared_names(doc.name), labels)


DIVISION = register(Kind("Division", DivisionSpec, _division, name_problem=_code_problem))
SITE = register(Kind("Site", SiteSpec, _site))
CLUSTER = register(Kind("Cluster", ClusterSpec, _cluster))
NODE = register(Kind("Node", NodeSpec, _node, status=NodeStatus))
NODE_POOL = register(
    Kind("NodePool", NodePoolSpec, _node_pool, status=NodeStatus, namespace="Node")
)
_FLEET_KINDS = {kind.name: kind for kind in (DIVISION, SITE, CLUSTER, NODE, NODE_POOL)}


def build_fleet(documents: Iterable[Document]) -> Fleet:
    """The fleet of the documents' divisions, sites, clusters and nodes; other kinds ignored.

    The documents must have passed the loader's checks (references resolve, names unique).
    """
    fleet = Fleet()
    for doc in documents:
        kind = _FLEET_KINDS.get(doc.kind)
        if kind is None:
            continue
        for item in kind.convert(doc):
            if isinstance(item, Node):
                fleet.nodes[item.name] = item
            elif isinstance(item, Cluster):
                fleet.clusters[item.name] = item
            elif isinstance(item, Site):
                fleet.sites[item.name] = item
            elif isinstance(item, Division):
                fleet.divisions[item.code] = item
    return fleet
