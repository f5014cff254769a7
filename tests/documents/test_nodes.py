"""Nodes and node pools: quantities, status, pool expansion and name collisions."""

from __future__ import annotations

import pytest

from console.documents import POOL_LABEL, load_fleet
from console.model import Resources

from .helpers import Writer, errors_of, line_of, with_base

GI = 2**30


def node_doc(name: str, capacity: str, kind: str = "Node", extra: str = "") -> str:
    return (
        f"apiVersion: tongchou.io/v1\nkind: {kind}\nmetadata:\n  name: {name}\n"
        f"  labels: {{rack: r1}}\nspec:\n  cluster: gz-gov\n  arch: x86_64\n"
        f"  chip: hygon-7380\n  capacity: {capacity}\n{extra}"
    )


@pytest.mark.parametrize(
    ("capacity", "expected"),
    [
        ('{cpu: "4", memory: 8Gi}', Resources(4000, 8 * GI)),
        ("{cpu: 4, memory: 512Mi}", Resources(4000, 512 * 2**20)),
        ('{cpu: "500m", memory: 1G}', Resources(500, 10**9)),
        ("{cpu: 1.5, memory: 1024, disk: 2Ti, gpu: 2}", Resources(1500, 1024, 2 * 2**40, 2)),
        (
            '{cpu: "128", memory: 512Gi, disk: 7680Gi, gpu: "8"}',
            Resources(128_000, 512 * GI, 7680 * GI, 8),
        ),
    ],
)
def test_quantities(write: Writer, capacity: str, expected: Resources) -> None:
    fleet = load_fleet([write("n.yaml", with_base(node_doc("n1", capacity)))])
    assert fleet.nodes["n1"].capacity == expected
    assert fleet.nodes["n1"].labels == {"rack": "r1"}


def test_status_allocated_and_usage(write: Writer) -> None:
    status = "status:\n  allocated: {cpu: 2, memory: 4Gi}\n  usage: {cpu: 250m, memory: 3Gi}\n"
    path = write("n.yaml", with_base(node_doc("n1", "{cpu: 8, memory: 16Gi}", extra=status)))
    node = load_fleet([path]).nodes["n1"]
    assert node.allocated == Resources(2000, 4 * GI)
    assert node.usage == Resources(250, 3 * GI)


def test_no_status_means_nothing_allocated(write: Writer) -> None:
    node = load_fleet([write("n.yaml", with_base(node_doc("n1", "{cpu: 8, memory: 16Gi}")))]).nodes[
        "n1"
    ]
    assert node.allocated == Resources()
    assert node.usage is None


def test_pool_expands_to_numbered_nodes(write: Writer) -> None:
    text = with_base(node_doc("web", "{cpu: 64, memory: 256Gi}", "NodePool", "  count: 3\n"))
    fleet = load_fleet([write("pool.yaml", text)])
    assert list(fleet.nodes) == ["web-1", "web-2", "web-3"]
    for node in fleet.nodes.values():
        assert node.cluster == "gz-gov"
        assert node.chip == "hygon-7380"
        assert node.capacity == Resources(64_000, 256 * GI)
        assert node.labels == {"rack": "r1", POOL_LABEL: "web"}


def test_large_pool(write: Writer) -> None:
    text = with_base(node_doc("big", "{cpu: 64, memory: 256Gi}", "NodePool", "  count: 12000\n"))
    fleet = load_fleet([write("pool.yaml", text)])
    assert len(fleet.nodes) == 12000
    assert "big-12000" in fleet.nodes


def test_pool_name_collides_with_node(write: Writer) -> None:
    text = with_base(
        node_doc("web-2", "{cpu: 8, memory: 16Gi}")
        + "---\n"
        + node_doc("web", "{cpu: 8, memory: 16Gi}", "NodePool", "  count: 3\n")
    )
    path = write("pool.yaml", text)
    [error] = errors_of(path)
    assert (error.index, error.kind, error.name, error.field) == (
        7,
        "NodePool",
        "web",
        "metadata.name",
    )
    assert error.line == line_of(path, "name: web")
    first = line_of(path, "name: web-2")
    assert (
        error.message
        == f'declares Node "web-2", already declared by Node web-2 at {path}:{first} (document 6)'
    )


def test_pools_collide(write: Writer) -> None:
    text = with_base(
        node_doc("db", "{cpu: 8, memory: 16Gi}", "NodePool", "  count: 5\n")
        + "---\n"
        + node_doc("db", "{cpu: 8, memory: 16Gi}", "NodePool", "  count: 3\n")
    )
    path = write("pools.yaml", text)
    [error] = errors_of(path)
    assert (error.index, error.name) == (7, "db")
    assert error.message.startswith(
        'declares Node "db-1" and 2 more, already declared by NodePool db'
    )


def test_duplicate_node(write: Writer) -> None:
    text = with_base(
        node_doc("n1", "{cpu: 8, memory: 16Gi}") + "---\n" + node_doc("n1", "{cpu: 4, memory: 8Gi}")
    )
    [error] = errors_of(write("dup.yaml", text))
    assert (error.index, error.field) == (7, "metadata.name")
    assert error.message.startswith('duplicate Node name "n1", first declared at ')


def test_pool_node_names_must_fit_a_dns_label(write: Writer) -> None:
    name = "p" * 60
    text = with_base(node_doc(name, "{cpu: 8, memory: 16Gi}", "NodePool", "  count: 100\n"))
    [error] = errors_of(write("long.yaml", text))
    assert error.field == "metadata.name"
    assert error.message == f"node name '{name}-100' would be longer than 63 characters"


def test_count_must_be_an_integer(write: Writer) -> None:
    text = with_base(node_doc("web", "{cpu: 8, memory: 16Gi}", "NodePool", '  count: "3"\n'))
    [error] = errors_of(write("count.yaml", text))
    assert (error.field, error.message) == ("spec.count", 'must be an integer, got "3"')


def test_status_is_not_allowed_on_clusters(write: Writer) -> None:
    text = with_base(
        "apiVersion: tongchou.io/v1\nkind: Cluster\nmetadata: {name: c2}\n"
        "spec: {site: gz-dc, mlpsLevel: 2}\nstatus: {}\n"
    )
    path = write("c.yaml", text)
    [error] = errors_of(path)
    assert (error.field, error.line) == ("status", line_of(path, "status:"))
    assert error.message.startswith('unknown field "status"')


def test_node_after_pool_names_the_pool(write: Writer) -> None:
    text = with_base(
        node_doc("web", "{cpu: 8, memory: 16Gi}", "NodePool", "  count: 12\n")
        + "---\n"
        + node_doc("web-11", "{cpu: 8, memory: 16Gi}")
    )
    [error] = errors_of(write("pools.yaml", text))
    assert (error.index, error.kind, error.name) == (7, "Node", "web-11")
    assert error.message.startswith('declares Node "web-11", already declared by NodePool web at ')
