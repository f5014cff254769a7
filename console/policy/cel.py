"""The CEL environment of placement policies, and compilation with precise error positions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from cel_expr_python import cel
from cel_expr_python.ext import ext_math
from google.protobuf import descriptor_pool

from console.policy.refs import References, references
from tongchou.v1 import policy_pb2

VARIABLES: dict[str, str] = {
    "workload": policy_pb2.PolicyWorkload.DESCRIPTOR.full_name,
    "cluster": policy_pb2.PolicyCluster.DESCRIPTOR.full_name,
    "site": policy_pb2.PolicySite.DESCRIPTOR.full_name,
    "division": policy_pb2.PolicyDivision.DESCRIPTOR.full_name,
    "fit": "int",
}
"""The variables a policy may read, with their CEL types."""

_POSITION = re.compile(r"ERROR: <input>:(\d+):(\d+): (.*?)(?:\n|$)")


class ResultKind(StrEnum):
    """What an expression yields, from the type checker."""

    BOOL = "bool"
    NUMBER = "number"
    OTHER = "other"


class CelError(ValueError):
    """An expression that does not compile: where (1-based line and column) and why."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        where = f"at {line}:{column}: " if line else ""
        super().__init__(f"{where}{message}")
        self.message = message
        self.line = line
        self.column = column


@dataclass(frozen=True, slots=True)
class Compiled:
    """A compiled, type-checked expression and what it reads."""

    source: str
    expression: Any
    kind: ResultKind
    refs: References

    def evaluate(self, activation: Any) -> object:
        """The value for one activation; raises ValueError when evaluation fails."""
        value = self.expression.eval(activation)
        if value.type() == cel.Type.ERROR:
            raise ValueError(str(value.value()))
        return value.value()


@cache
def environment() -> Any:
    """The one CEL environment (compiled once per process)."""
    types = {
        name: cel.Type.INT if kind == "int" else cel.Type(kind) for name, kind in VARIABLES.items()
    }
    return cel.NewEnv(descriptor_pool.Default(), variables=types, extensions=[ext_math.ExtMath()])


def activation(data: dict[str, Any]) -> Any:
    """Variable bindings for evaluation (build once, evaluate many times)."""
    return environment().Activation(data=data)


def _kind(expression: Any) -> ResultKind:
    name = expression.return_type().name().lower()
    if name == "bool":
        return ResultKind.BOOL
    if name in ("int", "uint", "double"):
        return ResultKind.NUMBER
    return ResultKind.OTHER


def compile_expression(source: str) -> Compiled:
    """Parses and type-checks `source`; raises CelError with the position of the first error."""
    if not source.strip():
        raise CelError("the expression is empty")
    try:
        expression = environment().compile(source)
    except RuntimeError as err:
        text = str(err)
        match = _POSITION.search(text)
        if match is None:
            raise CelError(text.removeprefix("INVALID_ARGUMENT: ").strip()) from None
        line, column, message = match.groups()
        raise CelError(message.strip(), int(line), int(column)) from None
    return Compiled(source, expression, _kind(expression), references(source))
