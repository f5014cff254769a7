"""Every kind of document error is reported with its file, document, kind, name, field and line."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from console.documents import load_fleet

from .helpers import Writer, line_of, only_error, with_base


@dataclass(frozen=True)
class Case:
    """Document 6 (after the valid BASE), the error it must cause, and where."""

    id: str
    text: str
    needle: str
    field: str
    message: str
    kind: str | None = "Cluster"
    name: str | None = "bad"


CLUSTER = """\
apiVersion: tongchou.io/v1
kind: Cluster
metadata: {name: bad}
spec:
  site: gz-dc
  mlpsLevel: %s
"""

NODE = """\
apiVersion: tongchou.io/v1
kind: Node
metadata: {name: bad}
spec:
  cluster: gz-gov
  arch: %s
  chip: kunpeng-920
  capacity: {cpu: %s, memory: %s, gpu: %s}
"""


def node(arch: str = "aarch64", cpu: str = '"128"', memory: str = "512Gi", gpu: str = "0") -> str:
    return NODE % (arch, cpu, memory, gpu)


def site(extra: str, division: str = '"440100"') -> str:
    return (
        "apiVersion: tongchou.io/v1\nkind: Site\nmetadata: {name: bad}\n"
        f"spec:\n  division: {division}\n  provider: on-prem\n{extra}"
    )


def division(code: str, spec: str) -> str:
    return f'apiVersion: tongchou.io/v1\nkind: Division\nmetadata:\n  name: "{code}"\nspec:\n{spec}'


CASES = [
    Case(
        "api-version",
        (CLUSTER % 3).replace("tongchou.io/v1", "tongchou.io/v2"),
        "tongchou.io/v2",
        "apiVersion",
        'must be tongchou.io/v1, got "tongchou.io/v2"',
    ),
    Case(
        "unknown-kind",
        (CLUSTER % 3).replace("kind: Cluster", "kind: Wrokload"),
        "kind: Wrokload",
        "kind",
        'unknown kind "Wrokload"',
        kind="Wrokload",
    ),
    Case(
        "kind-typo",
        (CLUSTER % 3).replace("kind: Cluster", "kind: Clustre"),
        "kind: Clustre",
        "kind",
        'did you mean "Cluster"?',
        kind="Clustre",
    ),
    Case(
        "missing-name",
        (CLUSTER % 3).replace("{name: bad}", "{labels: {tier: gold}}"),
        "metadata:",
        "metadata.name",
        "required field is missing",
        name=None,
    ),
    Case(
        "empty-name",
        (CLUSTER % 3).replace("{name: bad}", '{name: ""}'),
        "metadata:",
        "metadata.name",
        "must not be empty",
        name="",
    ),
    Case(
        "not-dns-name",
        (CLUSTER % 3).replace("{name: bad}", "{name: Bad_Name}"),
        "metadata:",
        "metadata.name",
        "'Bad_Name' is not a valid name",
        name="Bad_Name",
    ),
    Case(
        "unknown-spec-field",
        CLUSTER % "3\n  mlpslevel: 2",
        "mlpslevel: 2",
        "spec.mlpslevel",
        'unknown field "mlpslevel"; did you mean "mlpsLevel"?',
    ),
    Case(
        "unknown-top-field",
        CLUSTER % 3 + "statuz: {}\n",
        "statuz",
        "statuz",
        'unknown field "statuz"',
    ),
    Case(
        "unknown-metadata-field",
        (CLUSTER % 3).replace("{name: bad}", "{name: bad, namespace: x}"),
        "metadata:",
        "metadata.namespace",
        'unknown field "namespace"',
    ),
    Case(
        "unknown-nested-field",
        node().replace("gpu: 0}", "gpu: 0, cores: 4}"),
        "capacity:",
        "spec.capacity.cores",
        'unknown field "cores"',
        kind="Node",
    ),
    Case(
        "string-for-int",
        CLUSTER % '"3"',
        "mlpsLevel",
        "spec.mlpsLevel",
        'must be an integer, got "3"',
    ),
    Case(
        "bool-for-int",
        CLUSTER % "true",
        "mlpsLevel",
        "spec.mlpsLevel",
        "must be an integer, got true",
    ),
    Case("mlps-range", CLUSTER % 7, "mlpsLevel", "spec.mlpsLevel", "must be 1 to 4, got 7"),
    Case("mlps-zero", CLUSTER % 0, "mlpsLevel", "spec.mlpsLevel", "must be 1 to 4, got 0"),
    Case(
        "shared-not-bool",
        CLUSTER % "3\n  shared: 1",
        "shared",
        "spec.shared",
        "must be true or false, got 1",
    ),
    Case(
        "site-missing",
        "apiVersion: tongchou.io/v1\nkind: Cluster\nmetadata: {name: bad}\nspec: {mlpsLevel: 3}\n",
        "spec:",
        "spec.site",
        "required field is missing",
    ),
    Case(
        "spec-missing",
        "apiVersion: tongchou.io/v1\nkind: Cluster\nmetadata: {name: bad}\n",
        "apiVersion",
        "spec",
        "required field is missing",
    ),
    Case(
        "cluster-site-undeclared",
        (CLUSTER % 3).replace("site: gz-dc", "site: gz-dcx"),
        "site:",
        "spec.site",
        'Site "gz-dcx" is not declared; did you mean "gz-dc"?',
    ),
    Case(
        "label-not-string",
        (CLUSTER % 3).replace("{name: bad}", "{name: bad, labels: {tier: 3}}"),
        "metadata:",
        "metadata.labels.tier",
        "must be a string, got 3",
    ),
    Case("arch", node(arch="arm64"), "arch:", "spec.arch", 'got "arm64"', kind="Node"),
    Case(
        "cpu-quantity",
        node(cpu='"4x"'),
        "capacity",
        "spec.capacity.cpu",
        "'4x' is not a quantity",
        kind="Node",
    ),
    Case(
        "cpu-zero",
        node(cpu='"0"'),
        "capacity",
        "spec.capacity.cpu",
        "cpu must be more than 0",
        kind="Node",
    ),
    Case(
        "memory-unit",
        node(memory="8GB"),
        "capacity",
        "spec.capacity.memory",
        "'8GB' is not a quantity",
        kind="Node",
    ),
    Case(
        "memory-bool",
        node(memory="true"),
        "capacity",
        "spec.capacity.memory",
        "not a boolean",
        kind="Node",
    ),
    Case(
        "gpu-fraction",
        node(gpu="1.5"),
        "capacity",
        "spec.capacity.gpu",
        "must be a whole number, got 1.5",
        kind="Node",
    ),
    Case(
        "node-cluster-undeclared",
        node().replace("cluster: gz-gov", "cluster: sz-gov"),
        "cluster:",
        "spec.cluster",
        'Cluster "sz-gov" is not declared',
        kind="Node",
    ),
    Case(
        "pool-count",
        node().replace("kind: Node", "kind: NodePool") + "  count: 0\n",
        "count:",
        "spec.count",
        "must be 1 to 100000, got 0",
        kind="NodePool",
    ),
    Case(
        "pool-count-missing",
        node().replace("kind: Node", "kind: NodePool"),
        "spec:",
        "spec.count",
        "required field is missing",
        kind="NodePool",
    ),
    Case(
        "pool-cluster-undeclared",
        node().replace("kind: Node", "kind: NodePool").replace("gz-gov", "x") + "  count: 2\n",
        "cluster:",
        "spec.cluster",
        'Cluster "x" is not declared',
        kind="NodePool",
    ),
    Case(
        "status-quantity",
        node() + "status:\n  usage: {cpu: lots}\n",
        "usage:",
        "status.usage.cpu",
        "'lots' is not a quantity",
        kind="Node",
    ),
    Case(
        "provider-empty",
        site("").replace("on-prem", '""'),
        "provider",
        "spec.provider",
        "must not be empty",
        kind="Site",
    ),
    Case(
        "pue-low", site("  pue: 0.9\n"), "pue", "spec.pue", "must be 1 to 3, got 0.9", kind="Site"
    ),
    Case(
        "pue-high", site("  pue: 3.5\n"), "pue", "spec.pue", "must be 1 to 3, got 3.5", kind="Site"
    ),
    Case(
        "pue-string",
        site('  pue: "1.4"\n'),
        "pue",
        "spec.pue",
        'must be a number, got "1.4"',
        kind="Site",
    ),
    Case(
        "price-negative",
        site("  powerPriceCnyPerKwh: -0.1\n"),
        "powerPrice",
        "spec.powerPriceCnyPerKwh",
        "must be 0 to 100, got -0.1",
        kind="Site",
    ),
    Case(
        "slots-negative",
        site("  freeServerSlots: -2\n"),
        "freeServerSlots",
        "spec.freeServerSlots",
        "must be 0 to 100000, got -2",
        kind="Site",
    ),
    Case(
        "compute-hub",
        site("  computeHub: shaoguan\n"),
        "computeHub",
        "spec.computeHub",
        "must be one of jingjinji, changsanjiao, yuegangao, chengyu, neimenggu, guizhou, gansu "
        'or ningxia, got "shaoguan"',
        kind="Site",
    ),
    Case(
        "site-division-undeclared",
        site("", division='"440300"'),
        "division:",
        "spec.division",
        'Division "440300" is not declared',
        kind="Site",
    ),
    Case(
        "site-division-not-code",
        site("", division="guangzhou"),
        "division:",
        "spec.division",
        "'guangzhou' is not a division code",
        kind="Site",
    ),
    Case(
        "division-code",
        division("44010", "  name: 错误\n"),
        'name: "44010"',
        "metadata.name",
        "'44010' is not a division code",
        kind="Division",
        name="44010",
    ),
    Case(
        "division-level",
        division("440111", '  name: 白云区\n  level: city\n  parent: "440100"\n'),
        "level:",
        "spec.level",
        "must be county for code 440111, got city",
        kind="Division",
        name="440111",
    ),
    Case(
        "division-level-unknown",
        division("440111", '  name: 白云区\n  level: district\n  parent: "440100"\n'),
        "level:",
        "spec.level",
        'must be one of national, province, city, county or township, got "district"',
        kind="Division",
        name="440111",
    ),
    Case(
        "division-wrong-parent",
        division("440111", '  name: 白云区\n  parent: "440300"\n'),
        "parent:",
        "spec.parent",
        "440300 cannot be the parent of 440111; expected 440100",
        kind="Division",
        name="440111",
    ),
    Case(
        "division-missing-parent",
        division("440111002", "  name: 三元里街道\n"),
        "spec:",
        "spec.parent",
        "required for a township; expected 440111",
        kind="Division",
        name="440111002",
    ),
    Case(
        "division-parent-undeclared",
        division("440111002", '  name: 三元里街道\n  parent: "440111"\n'),
        "parent:",
        "spec.parent",
        'Division "440111" is not declared',
        kind="Division",
        name="440111002",
    ),
    Case(
        "division-display-name",
        division("440111", '  name: "  "\n  parent: "440100"\n'),
        'name: "  "',
        "spec.name",
        "must not be empty",
        kind="Division",
        name="440111",
    ),
    Case(
        "province-parent",
        division("450000", '  name: 广西壮族自治区\n  parent: "440000"\n'),
        "parent:",
        "spec.parent",
        "440000 cannot be the parent of 450000; expected 000000",
        kind="Division",
        name="450000",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_error_is_located(write: Writer, case: Case) -> None:
    path = write("fleet.yaml", with_base(case.text))
    error = only_error(path)
    assert error.file == path
    assert error.index == 6
    assert error.kind == case.kind
    assert error.name == case.name
    assert error.field == case.field
    assert case.message in error.message
    assert error.line == line_of(path, case.needle)


def test_error_format(write: Writer) -> None:
    path = write("bad.yaml", with_base(CLUSTER % 7))
    error = only_error(path)
    line = line_of(path, "mlpsLevel")
    assert (
        str(error)
        == f"{path}:{line}: document 6 (Cluster bad): spec.mlpsLevel: must be 1 to 4, got 7"
    )


def test_duplicate_name_names_the_first(write: Writer) -> None:
    first = write("a.yaml", with_base(CLUSTER.replace("name: bad", "name: twin") % 3))
    second = write("b.yaml", (CLUSTER.replace("name: bad", "name: twin") % 2))
    error = only_error(first, second)
    assert (error.file, error.index, error.kind, error.name) == (second, 1, "Cluster", "twin")
    assert error.field == "metadata.name"
    assert error.line == line_of(second, "metadata:")
    assert error.message == (
        f'duplicate Cluster name "twin", first declared at {first}:{line_of(first, "name: twin")} '
        "(document 6)"
    )


def test_names_are_per_kind(write: Writer) -> None:
    text = with_base(CLUSTER.replace("name: bad", "name: gz-dc") % 3)
    fleet = load_fleet([write("fleet.yaml", text)])
    assert fleet.sites["gz-dc"].name == fleet.clusters["gz-dc"].name == "gz-dc"
