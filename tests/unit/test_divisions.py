"""Tests for tongchou.divisions: code checks, levels, parents, ancestors and subtrees."""

from __future__ import annotations

import pytest

from tongchou.divisions import (
    NATIONAL_CODE,
    DivisionCodeError,
    Level,
    ancestors,
    check_code,
    contains,
    level_of,
    parent_candidates,
)


@pytest.mark.parametrize("code", ["440000", "440100", "440106", "440106001", "429004", "110101"])
def test_check_code_returns_valid_codes(code: str) -> None:
    assert check_code(code) == code


def test_check_code_accepts_national() -> None:
    assert check_code(NATIONAL_CODE) == "000000"


@pytest.mark.parametrize("code", ["44010", "4401061", "44010600", "4401060011", ""])
def test_check_code_rejects_wrong_length(code: str) -> None:
    with pytest.raises(DivisionCodeError, match="expected 6"):
        check_code(code)


@pytest.mark.parametrize("code", ["44010a", "abcdef", "440 06", "-44010", "４４０１０６"])
def test_check_code_rejects_non_digits(code: str) -> None:
    with pytest.raises(DivisionCodeError, match="is not a division code"):
        check_code(code)


def test_check_code_rejects_province_00() -> None:
    with pytest.raises(DivisionCodeError, match="province digits are 00") as info:
        check_code("000100")
    assert "'000100'" in str(info.value)


def test_check_code_rejects_township_000() -> None:
    with pytest.raises(DivisionCodeError, match="township digits are 000"):
        check_code("440106000")


def test_check_code_rejects_county_under_prefecture_00() -> None:
    with pytest.raises(DivisionCodeError, match="prefecture 00"):
        check_code("440006")


def test_division_code_error_is_a_value_error() -> None:
    assert issubclass(DivisionCodeError, ValueError)


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("000000", Level.NATIONAL),
        ("440000", Level.PROVINCE),
        ("440100", Level.CITY),
        ("440106", Level.COUNTY),
        ("440106001", Level.TOWNSHIP),
        ("441900", Level.CITY),  # 东莞: a city without districts
        ("429004", Level.COUNTY),  # 仙桃: a county run by the province
        ("110101", Level.COUNTY),  # 北京 东城区
    ],
)
def test_level_of(code: str, level: Level) -> None:
    assert level_of(code) is level


def test_level_of_checks_the_code() -> None:
    with pytest.raises(DivisionCodeError):
        level_of("44010")


def test_level_ranks_go_down_from_national() -> None:
    assert [lvl.rank for lvl in Level] == [0, 1, 2, 3, 4]
    assert Level.PROVINCE.rank < Level.TOWNSHIP.rank


@pytest.mark.parametrize(
    ("code", "parents"),
    [
        ("429004", ("429000", "420000")),
        ("441900003", ("441900",)),
        ("110101", ("110100",)),
        ("440106001", ("440106",)),
        ("440106", ("440100",)),
        ("440100", ("440000",)),
        ("440000", ("000000",)),
        ("000000", ()),
    ],
)
def test_parent_candidates(code: str, parents: tuple[str, ...]) -> None:
    assert parent_candidates(code) == parents


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("440106001", ("440106", "440100", "440000", "000000")),
        ("440106", ("440100", "440000", "000000")),
        ("440100", ("440000", "000000")),
        ("440000", ("000000",)),
        ("000000", ()),
        ("441900003", ("441900", "440000", "000000")),
        ("429004", ("429000", "420000", "000000")),
    ],
)
def test_ancestors(code: str, expected: tuple[str, ...]) -> None:
    assert ancestors(code) == expected


def test_ancestors_never_include_the_code_itself() -> None:
    for code in ("440106001", "440106", "440100", "440000"):
        assert code not in ancestors(code)


def test_contains_township_in_city() -> None:
    assert contains("440100", "440106001")


def test_city_does_not_contain_other_city_county() -> None:
    assert not contains("440100", "440306")


@pytest.mark.parametrize("code", ["440100", "440106", "440106001", "000000"])
def test_division_contains_itself(code: str) -> None:
    assert contains(code, code)


def test_contains_is_not_symmetric() -> None:
    assert contains("440000", "440106")
    assert not contains("440106", "440000")


def test_national_contains_everything() -> None:
    assert contains(NATIONAL_CODE, "441900003")
    assert contains(NATIONAL_CODE, "110101")


def test_other_province_does_not_contain() -> None:
    assert not contains("420000", "440106001")
    assert contains("420000", "429004")
