"""Tests for console.model.quantity: cpu and size quantities, parsed and formatted."""

from __future__ import annotations

import pytest

from console.model.quantity import (
    QuantityError,
    format_bytes,
    format_cpu,
    parse_bytes,
    parse_cpu,
)

KI, MI, GI, TI = 2**10, 2**20, 2**30, 2**40


@pytest.mark.parametrize(
    ("value", "millicores"),
    [
        ("4", 4000),
        ("500m", 500),
        (1.5, 1500),
        ("0.5", 500),
        (2, 2000),
        ("0", 0),
        (" 8 ", 8000),
        ("1.001", 1001),
        ("250m", 250),
    ],
)
def test_parse_cpu(value: object, millicores: int) -> None:
    result = parse_cpu(value)
    assert result == millicores
    assert type(result) is int


def test_parse_cpu_finer_than_a_millicore() -> None:
    with pytest.raises(QuantityError, match="finer than one millicore") as info:
        parse_cpu("0.0001")
    assert "'0.0001'" in str(info.value)


def test_parse_cpu_fractional_millicores() -> None:
    with pytest.raises(QuantityError, match="finer than one millicore"):
        parse_cpu("1.5m")


@pytest.mark.parametrize("text", ["abc", "4 cores", "-1", "1.5k", "m", ""])
def test_parse_cpu_rejects_text(text: str) -> None:
    with pytest.raises(QuantityError, match="is not a quantity"):
        parse_cpu(text)


def test_parse_cpu_rejects_bool() -> None:
    with pytest.raises(QuantityError, match="not a boolean"):
        parse_cpu(True)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_parse_cpu_rejects_non_finite(value: float) -> None:
    with pytest.raises(QuantityError, match="must be finite"):
        parse_cpu(value)


def test_parse_cpu_rejects_other_types() -> None:
    with pytest.raises(QuantityError, match=r"got \[4\]"):
        parse_cpu([4])


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ("8Gi", 8 * GI),
        ("512Mi", 512 * MI),
        ("2Ti", 2 * TI),
        ("1G", 10**9),
        ("1k", 1000),
        ("1M", 10**6),
        (1024, 1024),
        ("1024", 1024),
        ("1.5Ki", 1536),
        ("1.5Gi", 3 * GI // 2),
        ("1Pi", 2**50),
        ("1Ei", 2**60),
        ("3T", 3 * 10**12),
    ],
)
def test_parse_bytes(value: object, size: int) -> None:
    result = parse_bytes(value)
    assert result == size
    assert type(result) is int


def test_parse_bytes_not_whole() -> None:
    with pytest.raises(QuantityError, match="not a whole number of bytes") as info:
        parse_bytes("0.5")
    assert "'0.5'" in str(info.value)


@pytest.mark.parametrize("text", ["8GB", "8gi", "8 Gi Gi", "Gi", "-1Gi", "1K", "eight"])
def test_parse_bytes_rejects_text(text: str) -> None:
    with pytest.raises(QuantityError, match="is not a quantity: use a number with a suffix"):
        parse_bytes(text)


def test_parse_bytes_rejects_bool_and_nan() -> None:
    with pytest.raises(QuantityError, match="size must be a quantity, not a boolean"):
        parse_bytes(False)
    with pytest.raises(QuantityError, match="size must be finite"):
        parse_bytes(float("nan"))


def test_quantity_error_is_a_value_error() -> None:
    assert issubclass(QuantityError, ValueError)


@pytest.mark.parametrize(
    ("millicores", "text"),
    [(4000, "4"), (0, "0"), (1500, "1.5"), (250, "250m"), (999, "999m"), (16000, "16")],
)
def test_format_cpu(millicores: float, text: str) -> None:
    assert format_cpu(millicores) == text


@pytest.mark.parametrize("text", ["4", "1.5", "250m", "32"])
def test_format_cpu_round_trips(text: str) -> None:
    assert format_cpu(parse_cpu(text)) == text


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0, "0B"),
        (100, "100B"),
        (1023, "1023B"),
        (KI, "1.0Ki"),
        (1536, "1.5Ki"),
        (512 * MI, "512Mi"),
        (3 * GI // 2, "1.5Gi"),
        (8 * GI, "8.0Gi"),
        (3 * TI, "3.0Ti"),
        (2 * 2**50, "2.0Pi"),
        (150 * GI, "150Gi"),
    ],
)
def test_format_bytes(amount: float, text: str) -> None:
    assert format_bytes(amount) == text
