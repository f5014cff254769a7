"""Placement policy expressions: the CEL environment, compilation, and what each one reads."""

from console.policy.cel import (
    VARIABLES,
    CelError,
    Compiled,
    ResultKind,
    compile_expression,
)
from console.policy.refs import References, references

__all__ = [
    "VARIABLES",
    "CelError",
    "Compiled",
    "References",
    "ResultKind",
    "compile_expression",
    "references",
]
