"""Untrusted YAML is read within bounds, and every number that enters has an upper bound."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from console.documents import load_documents, load_text, workloads_of
from console.documents.codes import allowing_new_codes, name_of, table
from console.documents.source import Limits

from .helpers import BASE, Writer, errors_of, line_of, only_error, with_base


def laughs(levels: int) -> str:
    """Nested anchors, each level nine aliases of the one before: 9**levels values."""
    text = 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for i in range(1, levels + 1):
        text += f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n"
    return text


def workload(spec: str) -> str:
    return (
        "apiVersion: tongchou.io/v1\nkind: Workload\nmetadata: {name: w}\nspec:\n"
        '  owner: "440100"\n  replicas: 2\n  image: reg/app:1\n  mlpsLevel: 3\n' + spec
    )


@pytest.mark.parametrize("levels", [7, 8, 12])
def test_an_alias_bomb_is_refused_with_its_line(write: Writer, levels: int) -> None:
    path = write("bomb.yaml", laughs(levels))
    error = only_error(path)
    assert "after aliases are expanded" in error.message
    assert "1,000,000" in error.message
    assert error.line == 1


def test_an_alias_bomb_in_api_text_is_refused_within_the_smaller_budget() -> None:
    with pytest.raises(Exception, match="200,000 values after aliases"):
        load_text(laughs(6), "request")


def test_the_value_budget_covers_all_documents_of_an_input(write: Writer) -> None:
    doc = "a: [" + ", ".join(["1"] * 99) + "]\n"
    path = write("many.yaml", "---\n".join([doc] * 30))
    with pytest.raises(Exception, match="more than 2,000 values"):
        from console.documents.errors import ErrorSink
        from console.documents.source import read_documents

        sink = ErrorSink()
        list(read_documents(path, sink, limits=Limits(max_values=2_000)))
        sink.raise_if_any()


def test_a_recursive_alias_is_refused(write: Writer) -> None:
    path = write("loop.yaml", "a: &a [1, *a]\n")
    assert "recursive alias" in only_error(path).message


def test_deep_nesting_is_refused_with_its_line(write: Writer) -> None:
    path = write("deep.yaml", "a: " + "[" * 70 + "]" * 70 + "\n")
    error = only_error(path)
    assert "nesting deeper than 64 levels" in error.message
    flow = write("flow.yaml", "a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert "bad YAML" in only_error(flow).message


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * (16 * 2**20) + "\n")
    error = only_error(path)
    assert "at most 16,777,216" in error.message
    assert error.index is None


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n# and another\n", "---\n---\n"])
def test_an_empty_or_comment_only_file_is_an_error(write: Writer, text: str) -> None:
    path = write("empty.yaml", text)
    error = only_error(path)
    assert "holds no documents" in error.message


def test_bad_encoding_is_an_error_naming_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"apiVersion: tongchou.io/v1\nkind: Division\n# caf\xe9\n")
    assert "not UTF-8 text: byte 47 is 0xe9" in only_error(path).message


# --- division codes against the national table ------------------------------------------


def test_the_table_holds_every_level_and_the_edge_cases() -> None:
    assert len(table()) > 44_000
    assert name_of("440000") == "广东省"
    assert name_of("440300") == "深圳市"
    assert name_of("110101") == "东城区"  # under a municipality's 市辖区 placeholder
    assert name_of("429004") == "仙桃市"  # a county run by the province
    assert name_of("441900003") is not None  # a township directly under 东莞
    assert name_of("441422100") == "湖寮镇"
    raw = Path(__file__).parents[2] / "console" / "documents" / "data" / "gbt2260.tsv.gz"
    assert gzip.decompress(raw.read_bytes()).decode("utf-8").count("\n") == len(table()) - 1


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        ("990000", "there is no province 990000"),
        ("440399", "440300 深圳市 is, with 440309 龙华区"),
        ("440106999", "440106 天河区 is"),
    ],
)
def test_an_unknown_code_is_an_error_with_a_hint(write: Writer, code: str, hint: str) -> None:
    text = workload("  resources: {cpu: 1, memory: 1Gi}\n").replace('"440100"', f'"{code}"')
    path = write("w.yaml", with_base(text))
    error = only_error(path)
    assert error.field == "spec.owner"
    assert error.line == line_of(path, code)
    assert f"{code} is not in the national division table" in error.message
    assert hint in error.message
    assert "--allow-new-codes" in error.message


def test_new_codes_are_accepted_when_allowed(
    write: Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = 'apiVersion: tongchou.io/v1\nkind: Division\nmetadata: {name: "440399"}\n'
    text += 'spec: {name: 新区, level: county, parent: "440300"}\n---\n'
    text += 'apiVersion: tongchou.io/v1\nkind: Division\nmetadata: {name: "440300"}\n'
    text += 'spec: {name: 深圳市, level: city, parent: "440000"}\n---\n'
    path = write("new.yaml", BASE + "---\n" + text.rstrip("-\n") + "\n")
    [error] = errors_of(path)
    assert error.field == "metadata.name"
    assert "440399 is not in the national division table" in error.message
    assert len(load_documents([path], allow_new_codes=True)) == 7
    with allowing_new_codes():
        assert len(load_documents([path])) == 7
    monkeypatch.setenv("TONGCHOU_ALLOW_NEW_CODES", "1")
    assert len(load_documents([path])) == 7


def test_a_hub_known_code_is_accepted_in_api_text() -> None:
    text = workload("  resources: {cpu: 1, memory: 1Gi}\n").replace('"440100"', "440399")
    known = {"Division": {"440399"}}
    [w] = workloads_of(load_text(text, "request", known=known))
    assert w.owner == "440399"


def test_an_unquoted_code_is_the_same_code_as_a_quoted_one() -> None:
    text = workload("  resources: {cpu: 1, memory: 1Gi}\n").replace('"440100"', "440300")
    [w] = workloads_of(load_text(text, "request", known={"Division": {"440300"}}))
    assert w.owner == "440300"


# --- numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        (
            "  resources: {cpu: 1, memory: 16Ei}\n",
            "spec.resources.memory",
            "at most 64Ti, got 16Ei",
        ),
        (
            "  resources: {cpu: 100000000000000000000, memory: 1Gi}\n",
            "spec.resources.cpu",
            "must be at most 65536 cores, got 1e+20 cores",
        ),
        ('  resources: {cpu: "1e3", memory: 1Gi}\n', "spec.resources.cpu", "is not a quantity"),
    ],
)
def test_poison_quantities_are_refused_with_the_bound(
    write: Writer, spec: str, field: str, message: str
) -> None:
    path = write("w.yaml", with_base(workload(spec)))
    error = only_error(path)
    assert error.field == field
    assert message in error.message


def node(capacity: str, status: str = "") -> str:
    return (
        "apiVersion: tongchou.io/v1\nkind: Node\nmetadata: {name: n1}\nspec:\n"
        f"  cluster: gz-gov\n  arch: x86_64\n  chip: hygon-7380\n  capacity: {capacity}\n{status}"
    )


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        (node("{cpu: 64, memory: 256Gi, gpu: 100000}"), "spec.capacity.gpu", "must be 0 to 64"),
        (node("{cpu: 64, memory: 256Gi, disk: 4Pi}"), "spec.capacity.disk", "at most 1Pi, got 4Pi"),
        (
            node("{cpu: 64, memory: 256Gi}", "status:\n  allocated: {cpu: 65, memory: 1Gi}\n"),
            "status.allocated.cpu",
            "must be at most the capacity, 64 cores; got 65 cores",
        ),
        (
            "apiVersion: tongchou.io/v1\nkind: Site\nmetadata: {name: s2}\n"
            'spec: {division: "440100", provider: x, freeServerSlots: 1' + "0" * 32 + "}\n",
            "spec.freeServerSlots",
            "must be 0 to 100000, got 1" + "0" * 32,
        ),
        (
            "apiVersion: tongchou.io/v1\nkind: Site\nmetadata: {name: s2}\n"
            'spec: {division: "440100", provider: x, powerPriceCnyPerKwh: .nan}\n',
            "spec.powerPriceCnyPerKwh",
            "must be a finite number, got nan",
        ),
    ],
)
def test_fleet_numbers_are_bounded(write: Writer, text: str, field: str, message: str) -> None:
    error = only_error(write("f.yaml", with_base(text)))
    assert error.field == field
    assert message in error.message


def policy(weight: str) -> str:
    return (
        "apiVersion: tongchou.io/v1\nkind: PlacementPolicy\nmetadata: {name: p}\n"
        f"spec:\n  prefer: double(workload.replicas)\n  weight: {weight}\n"
    )


@pytest.mark.parametrize(
    ("weight", "message"),
    [
        ("1e308", "must be 0 to 1000, got 1e+308"),
        ("1e999", "1e999 is too large for a number"),
        ('"heavy"', 'must be a number, got "heavy"'),
        ("[1, 2]", "must be a number, got a list"),
        ("2020-01-01", 'must be a number, got "2020-01-01"'),
        ("2020-13-45", 'must be a number, got "2020-13-45"'),
    ],
)
def test_number_errors_are_clean(write: Writer, weight: str, message: str) -> None:
    error = only_error(write("p.yaml", policy(weight)))
    assert error.field in ("spec.weight", None)
    assert message in error.message
    assert "function-after" not in str(error)
    assert "[" not in (error.field or "")


def test_a_yaml_12_float_is_a_number(write: Writer) -> None:
    [doc] = load_documents([write("p.yaml", policy("2.5e2"))])
    assert doc.spec.model_dump()["weight"] == 250.0


def test_a_date_like_text_is_text(write: Writer) -> None:
    text = workload("  resources: {cpu: 1, memory: 1Gi}\n").replace(
        "metadata: {name: w}", "metadata: {name: w, labels: {since: 2020-13-45, day: 2020-01-01}}"
    )
    [*_, doc] = load_documents([write("w.yaml", with_base(text))])
    assert dict(doc.labels) == {"since": "2020-13-45", "day": "2020-01-01"}
