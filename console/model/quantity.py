"""Kubernetes-style quantities: cpu ("4", "500m") in millicores, sizes ("8Gi", "2Ti") in bytes."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_SIZE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([KMGTPE]i|[kMGTPE]?)$")
_CPU = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m?)$")


class QuantityError(ValueError):
    """A string or number that is not a valid quantity."""


def _number(value: object, what: str) -> str:
    if isinstance(value, bool):
        raise QuantityError(f"{what} must be a quantity, not a boolean")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise QuantityError(f"{what} must be finite, got {value}")
        return repr(value)
    if isinstance(value, str):
        return value.strip()
    raise QuantityError(f"{what} must be a quantity such as '4' or '8Gi', got {value!r}")


def parse_cpu(value: object) -> int:
    """CPU in millicores: "4" → 4000, "500m" → 500, 1.5 → 1500."""
    text = _number(value, "cpu")
    match = _CPU.match(text)
    if match is None:
        raise QuantityError(f"cpu {text!r} is not a quantity: use cores ('4', '0.5') or '500m'")
    number, milli = match.groups()
    try:
        amount = Decimal(number)
    except InvalidOperation as err:  # pragma: no cover - the regex admits only decimals
        raise QuantityError(f"cpu {text!r} is not a number") from err
    millis = amount if milli else amount * 1000
    if millis != millis.to_integral_value():
        raise QuantityError(f"cpu {text!r} is finer than one millicore")
    return int(millis)


def parse_bytes(value: object) -> int:
    """A size in bytes: "8Gi" → 8·2³⁰, "512Mi", "2Ti", "1G" → 10⁹, 1024 → 1024."""
    text = _number(value, "size")
    match = _SIZE.match(text)
    if match is None:
        raise QuantityError(
            f"size {text!r} is not a quantity: use a number with a suffix such as 512Mi, 8Gi, 2Ti"
        )
    number, suffix = match.groups()
    scale = _BINARY.get(suffix) or _DECIMAL[suffix]
    amount = Decimal(number) * scale
    if amount != amount.to_integral_value():
        raise QuantityError(f"size {text!r} is not a whole number of bytes")
    return int(amount)


def format_cpu(millicores: float) -> str:
    """Millicores as a short string: 4000 → "4", 1500 → "1.5", 250 → "250m"."""
    if millicores % 1000 == 0:
        return str(int(millicores // 1000))
    if millicores >= 1000:
        return f"{millicores / 1000:.1f}"
    return f"{int(millicores)}m"


def format_bytes(amount: float) -> str:
    """Bytes in binary units with one decimal: 1.5Gi, 512Mi, 3.0Ti."""
    for suffix, scale in (
        ("Pi", 2**50),
        ("Ti", 2**40),
        ("Gi", 2**30),
        ("Mi", 2**20),
        ("Ki", 2**10),
    ):
        if amount >= scale:
            value = amount / scale
            return f"{value:.0f}{suffix}" if value >= 100 else f"{value:.1f}{suffix}"
    return f"{int(amount)}B"
