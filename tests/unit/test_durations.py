"""Tests for tongchou.durations.parse_duration."""

from __future__ import annotations

import pytest

from tongchou.durations import DurationError, parse_duration


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (10, 10.0),
        (2.5, 2.5),
        ("10", 10.0),
        ("10s", 10.0),
        ("500ms", 0.5),
        ("1m", 60.0),
        ("1.5m", 90.0),
        ("1h", 3600.0),
        (" 30 s ", 30.0),
        ("0.05", 0.05),
        ("24h", 86_400.0),
    ],
)
def test_parse_duration(value: object, seconds: float) -> None:
    result = parse_duration(value, "interval")
    assert result == pytest.approx(seconds)
    assert isinstance(result, float)


@pytest.mark.parametrize("value", ["10d", "ten", "-1s", "1 m s", "", "1e3", "s"])
def test_rejects_text_and_names_where(value: str) -> None:
    with pytest.raises(DurationError, match=r"^agent\.yaml: interval: expected a duration") as info:
        parse_duration(value, "agent.yaml: interval")
    assert repr(value) in str(info.value)


def test_rejects_bool() -> None:
    with pytest.raises(DurationError, match=r"flag --interval: expected a duration.*True"):
        parse_duration(True, "flag --interval")


@pytest.mark.parametrize("value", ["10ms", 0.01, 0, "25h", 90_000])
def test_rejects_out_of_default_range(value: object) -> None:
    with pytest.raises(DurationError, match=r"must lie between 0\.05s and 86400s") as info:
        parse_duration(value, "where")
    assert str(info.value).startswith("where: ")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_rejects_non_finite(value: float) -> None:
    with pytest.raises(DurationError, match="must lie between"):
        parse_duration(value, "x")


def test_custom_bounds() -> None:
    assert parse_duration("1h", "x", high=3600) == 3600.0
    with pytest.raises(DurationError, match="between 1s and 3600s"):
        parse_duration("2h", "x", low=1, high=3600)
    with pytest.raises(DurationError, match="between 1s and 3600s"):
        parse_duration("500ms", "x", low=1, high=3600)


def test_duration_error_is_a_value_error() -> None:
    assert issubclass(DurationError, ValueError)
