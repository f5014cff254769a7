"""Field types shared by spec models: strict scalars, ranges, quantities and division codes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, StrictFloat, StrictInt, StrictStr
from pydantic_core import PydanticCustomError

from console.model.quantity import QuantityError, parse_bytes, parse_cpu
from tongchou.divisions import DivisionCodeError, check_code

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
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


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


def _code(value: object) -> object:
    """Division codes may be written unquoted (440106): YAML reads those as integers."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        value = str(value)
    if isinstance(value, str):
        try:
            return check_code(value.strip())
        except DivisionCodeError as err:
            raise invalid(str(err)) from None
    return value


def _quantity(parse: Callable[[object], int]) -> Callable[[object], int]:
    def convert(value: object) -> int:
        try:
            return parse(value)
        except QuantityError as err:
            raise invalid(str(err)) from None

    return convert


def _whole(value: object) -> object:
    """A whole-number quantity such as a GPU count: 2 or "2"."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"must be a whole number, got {show(value)}")
    return value


Text = Annotated[StrictStr, AfterValidator(_text)]
"""A non-empty string, surrounding blanks removed."""

Code = Annotated[str, BeforeValidator(_code)]
"""A GB/T 2260 division code: "440106", "441900003"."""

Int = StrictInt
"""An integer: "3" and true are rejected."""

Number = Annotated[StrictFloat, AfterValidator(float)]
"""A number (an integer is fine); strings and booleans are rejected."""

Cpu = Annotated[int, BeforeValidator(_quantity(parse_cpu))]
"""A cpu quantity ("4", 4, "500m"), held in millicores."""

Bytes = Annotated[int, BeforeValidator(_quantity(parse_bytes))]
"""A size quantity ("8Gi", "512Mi", 1024), held in bytes."""

Whole = Annotated[int, BeforeValidator(_whole), between(0)]
"""A whole number of devices (GPUs), 0 or more."""


def positive(what: str) -> AfterValidator:
    """Rejects a zero quantity, naming it: "memory must be more than 0"."""

    def check(value: int) -> int:
        if value <= 0:
            raise invalid(f"{what} must be more than 0")
        return value

    return AfterValidator(check)
