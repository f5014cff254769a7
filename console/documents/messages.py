"""Turns pydantic validation errors into short messages an operator can act on."""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Iterable, Sequence

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from console.documents.fields import ERROR_TYPE, show
from console.documents.source import FieldPath

_TYPES = {
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "list_type": "must be a list",
}


# Parts of a pydantic location that name a branch of a union or a validator, not a field:
# "function-after[float(), float]", "constrained-str", "int", "literal['a','b']", "[key]".
_TAG = re.compile(
    r"^(?:\[key\]|[a-z]+(?:-[a-z]+)+(?:\[.*\])?|[a-z]+\[.*\]|int|float|str|bool|none)$"
)


def error_path(error: ErrorDetails) -> FieldPath:
    """The error's location as the user writes fields, without pydantic's markers."""
    loc = error["loc"]
    keep = len(loc) - 1 if error["type"] == "extra_forbidden" else len(loc)  # the user's key
    return tuple(
        p for i, p in enumerate(loc) if i >= keep or not (isinstance(p, str) and _TAG.match(p))
    )


def describe(error: ErrorDetails, model: type[BaseModel]) -> str:
    """One error as a message; `model` is the model validated, for naming allowed fields."""
    kind = error["type"]
    value = error.get("input")
    if kind == ERROR_TYPE:
        return str((error.get("ctx") or {}).get("message", error["msg"]))
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return unknown_field(str(error["loc"][-1]), allowed_fields(model, error["loc"][:-1]))
    if kind in ("int_from_float", "int_parsing_size"):
        return f"must be a whole number, got {show(value)}"
    if error["loc"] and error["loc"][-1] == "[key]":
        return f"keys must be strings, got {show(value)}"
    if kind in ("literal_error", "enum"):
        expected = str((error.get("ctx") or {}).get("expected", "")).replace("'", "")
        return f"must be one of {expected}, got {show(value)}"
    if kind in _TYPES:
        return f"{_TYPES[kind]}, got {show(value)}"
    return f"{error['msg'][0].lower()}{error['msg'][1:]}, got {show(value)}"


def unknown_field(name: str, allowed: Sequence[str]) -> str:
    """`unknown field "mlpslevel"; did you mean "mlpsLevel"?` or the list of allowed fields."""
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.75)
    if not close:
        close = [a for a in allowed if a.lower() == name.lower()]
    if close:
        return f'unknown field "{name}"; did you mean "{close[0]}"?'
    if allowed:
        return f'unknown field "{name}"; expected one of: {", ".join(allowed)}'
    return f'unknown field "{name}"'


def suggest(value: str, known: Iterable[str]) -> str:
    """`; did you mean "x"?` when a known name is close to `value`, else an empty string."""
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.8)
    return f'; did you mean "{close[0]}"?' if close else ""


def allowed_fields(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """The camelCase field names of the (nested) model found at `loc` inside `model`."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None or not isinstance(part, str):
            return []
        nxt: type[BaseModel] | None = None
        for name, info in current.model_fields.items():
            if (info.alias or name) == part:
                nxt = _model_in(info.annotation)
        current = nxt
    if current is None:
        return []
    return [info.alias or name for name, info in current.model_fields.items()]


def _model_in(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
