"""Field types shared by spec models: strict scalars, ranges, quantities and division codes.

Every number that enters through a document has an upper bound, named in the message when
it is exceeded: a typo or a hostile value must not reach the scheduler's or the planner's
arithmetic (int64 arrays, a MILP's coefficients).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, StrictFloat, StrictInt, StrictStr
from pydantic_core import PydanticCustomError

from console.documents.codes import check_known
from console.model.quantity import QuantityError, parse_bytes, parse_cpu
from tongchou.divisions import DivisionCodeError

MAX_CPU_CORES = 65_536
"""The most cores a quantity may name (a node's capacity, a replica's request)."""

MAX_MEMORY = 64 * 2**40
"""The most memory a quantity may name: 64Ti."""

MAX_DISK = 2**50
"""The most disk a quantity may name: 1Pi."""

MAX_GPU = 64
"""The most GPUs a node may hold."""

_SHOW_MAX = 40

ERROR_TYPE = "tongchou"
"""The pydantic error type of our own checks: its message is shown as is."""


def invalid(message: str) -> PydanticCustomError:
    """A validation error whose message reaches the user unchanged."""
    return PydanticCustomError(ERROR_TYPE, "{message}", {"message": message})


def show(value: object) -> str:
    """A value as YAML would spell it, for messages: "abc", 7, true, null."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return '"' + _cut(value).replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and abs(value) >= 10**_SHOW_MAX:
        return f"a {len(str(abs(value)))}-digit number"
    return _cut(str(value))


def _cut(text: str) -> str:
    return text if len(text) <= _SHOW_MAX else text[: _SHOW_MAX - 1] + "…"


def _fmt(number: float) -> str:
    return f"{number:g}"


def between(low: float, high: float | None = None) -> AfterValidator:
    """A number in [low, high] (no upper bound when high is None)."""

    def check(value: Any) -> Any:
        if value < low or (high is not None and value > high):
            if high is None:
                raise invalid(f"must be at least {_fmt(low)}, got {show(value)}")
            raise invalid(f"must be {_fmt(low)} to {_fmt(high)}, got {show(value)}")
        return value

    return AfterValidator(check)


def _text(value: str) -> str:
    if not value.strip():
        raise invalid("must not be empty")
    return value.strip()


def _code(value: object) -> str:
    """Division codes may be written unquoted (440106): YAML reads those as integers. Either
    way the code is normalised once, here, and must be in the national table."""
    try:
        return check_known(value)
    except DivisionCodeError as err:
        raise invalid(str(err)) from None


def _quantity(parse: Callable[[object], int], most: int, unit: str) -> Callable[[object], int]:
    def convert(value: object) -> int:
        try:
            amount = parse(value)
        except QuantityError as err:
            raise invalid(str(err)) from None
        if amount > most:
            raise invalid(
                f"must be at most {amount_text(most, unit)}, got {amount_text(amount, unit)}"
            )
        return amount

    return convert


def amount_text(amount: int, unit: str) -> str:
    """An amount for messages: millicores as "4 cores", bytes as "64Ti", else the number."""
    if unit == "cores":
        return f"{amount / 1000:g} cores"
    if unit != "bytes":
        return str(amount)
    for suffix, scale in (("Ei", 2**60), ("Pi", 2**50), ("Ti", 2**40), ("Gi", 2**30)):
        if amount >= scale:
            return f"{amount / scale:g}{suffix}"
    return f"{amount} bytes"


def _number(value: object) -> object:
    """Rejects NaN and infinities before any range check (NaN compares false to every bound)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise invalid(f"must be a finite number, got {show(value)}")
    return value


def _whole(value: object) -> object:
    """A whole-number quantity such as a GPU count: 2 or "2"."""
    text = value.strip() if isinstance(value, str) else ""
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"must be a whole number, got {show(value)}")
    return value


Text = Annotated[StrictStr, AfterValidator(_text)]
"""A non-empty string, surrounding blanks removed."""

Code = Annotated[str, BeforeValidator(_code)]
"""A GB/T 2260 division code: "440106", "441900003"."""

Int = StrictInt
"""An integer: "3" and true are rejected."""

Number = Annotated[StrictFloat, AfterValidator(float), AfterValidator(_number)]
"""A finite number (an integer is fine); strings and booleans are rejected."""

Cpu = Annotated[int, BeforeValidator(_quantity(parse_cpu, MAX_CPU_CORES * 1000, "cores"))]
"""A cpu quantity ("4", 4, "500m"), held in millicores, at most MAX_CPU_CORES cores."""

Memory = Annotated[int, BeforeValidator(_quantity(parse_bytes, MAX_MEMORY, "bytes"))]
"""A memory quantity ("8Gi", "512Mi", 1024), held in bytes, at most MAX_MEMORY."""

Disk = Annotated[int, BeforeValidator(_quantity(parse_bytes, MAX_DISK, "bytes"))]
"""A disk quantity ("2Ti"), held in bytes, at most MAX_DISK."""

Bytes = Disk
"""A size quantity of no more specific kind: bounded as a disk."""

Whole = Annotated[int, BeforeValidator(_whole), between(0, MAX_GPU)]
"""A whole number of devices (GPUs), 0 to MAX_GPU."""


def positive(what: str) -> AfterValidator:
    """Rejects a zero quantity, naming it: "memory must be more than 0"."""

    def check(value: int) -> int:
        if value <= 0:
            raise invalid(f"{what} must be more than 0")
        return value

    return AfterValidator(check)
