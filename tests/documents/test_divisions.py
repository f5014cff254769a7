"""Division documents: GB/T 2260 edge cases load, and parents are checked against the code."""

from __future__ import annotations

import pytest

from console.documents import load_fleet
from tongchou.divisions import Level

from .helpers import Writer, errors_of, line_of


def divisions(*rows: tuple[str, str, str | None]) -> str:
    """Division documents from (code, display name, parent) rows; level left to the code."""
    docs = []
    for code, name, parent in rows:
        parent_line = f'\n  parent: "{parent}"' if parent else ""
        docs.append(
            f'apiVersion: tongchou.io/v1\nkind: Division\nmetadata:\n  name: "{code}"\n'
            f"spec:\n  name: {name}{parent_line}\n"
        )
    return "---\n".join(docs)


def test_municipality_with_placeholder_prefecture(write: Writer) -> None:
    path = write(
        "beijing.yaml",
        divisions(
            ("110000", "北京市", None),
            ("110100", "市辖区", "110000"),
            ("110101", "东城区", "110100"),
            ("110101001", "东华门街道", "110101"),
        ),
    )
    fleet = load_fleet([path])
    assert fleet.divisions["110100"].level is Level.CITY
    assert fleet.divisions["110101"].parent == "110100"
    assert fleet.divisions["110101001"].level is Level.TOWNSHIP
    assert fleet.divisions["110000"].parent is None


@pytest.mark.parametrize("with_placeholder", [False, True])
def test_province_run_county(write: Writer, with_placeholder: bool) -> None:
    rows: list[tuple[str, str, str | None]] = [("420000", "湖北省", None)]
    if with_placeholder:
        rows += [("429000", "省直辖县级行政区划", "420000"), ("429004", "仙桃市", "429000")]
    else:
        rows += [("429004", "仙桃市", "420000")]
    fleet = load_fleet([write("hubei.yaml", divisions(*rows))])
    xiantao = fleet.divisions["429004"]
    assert xiantao.level is Level.COUNTY
    assert xiantao.parent == ("429000" if with_placeholder else "420000")


def test_ordinary_county_may_not_skip_its_city(write: Writer) -> None:
    path = write(
        "hubei.yaml", divisions(("420000", "湖北省", None), ("420106", "武昌区", "420000"))
    )
    [error] = errors_of(path)
    assert error.field == "spec.parent"
    assert error.message == "420000 cannot be the parent of 420106; expected 420100"


def test_city_without_districts_holds_townships(write: Writer) -> None:
    path = write(
        "dongguan.yaml",
        divisions(
            ("440000", "广东省", None),
            ("441900", "东莞市", "440000"),
            ("441900003", "东城街道", "441900"),
        ),
    )
    fleet = load_fleet([path])
    assert fleet.divisions["441900003"].parent == "441900"
    assert fleet.divisions["441900003"].level is Level.TOWNSHIP


def test_unquoted_codes_are_read_as_codes(write: Writer) -> None:
    text = (
        "apiVersion: tongchou.io/v1\nkind: Division\nmetadata: {name: 440000}\n"
        "spec: {name: 广东省, level: province}\n---\n"
        "apiVersion: tongchou.io/v1\nkind: Division\nmetadata: {name: 440100}\n"
        "spec: {name: 广州市, parent: 440000}\n"
    )
    fleet = load_fleet([write("codes.yaml", text)])
    assert set(fleet.divisions) == {"440000", "440100"}
    assert fleet.divisions["440100"].parent == "440000"


def test_province_parent_need_not_be_declared(write: Writer) -> None:
    fleet = load_fleet([write("gd.yaml", divisions(("440000", "广东省", "000000")))])
    assert fleet.divisions["440000"].parent == "000000"


def test_city_parent_must_be_declared(write: Writer) -> None:
    path = write("gz.yaml", divisions(("440100", "广州市", "440000")))
    [error] = errors_of(path)
    assert (error.index, error.kind, error.name) == (1, "Division", "440100")
    assert error.field == "spec.parent"
    assert error.line == line_of(path, "parent:")
    assert error.message == 'Division "440000" is not declared'


def test_township_code_with_zero_suffix_is_rejected(write: Writer) -> None:
    path = write("bad.yaml", divisions(("440106000", "无", "440106")))
    [error] = errors_of(path)
    assert error.field == "metadata.name"
    assert "township digits are 000" in error.message
