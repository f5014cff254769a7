"""The kind registry: each kind's spec model, name rule and converter to domain objects."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from console.documents.source import FieldPath, LineSource

API_VERSION = "tongchou.io/v1"

_DNS = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_MAX = 63

Issue = tuple[FieldPath, str]
"""A problem in one document: the field path from the document's root, and the message."""


@dataclass(frozen=True, slots=True)
class Ref:
    """A field naming a document of another kind: `path` must name a declared `target`."""

    path: FieldPath
    target: str
    value: str


class SpecModel(BaseModel):
    """Base of every spec: camelCase fields, unknown fields rejected, immutable.

    The hooks let the generic loader check what a field type cannot: names a document
    declares, references to other documents, and rules that need the document's name.
    """

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, frozen=True)

    def declared_names(self, name: str) -> Sequence[str]:
        """The names this document adds to its kind's namespace (a pool adds its nodes)."""
        return (name,)

    def references(self, name: str) -> Iterable[Ref]:
        """Fields naming other documents; each must name one declared in the input."""
        return ()

    def check(self, name: str) -> Iterable[Issue]:
        """Rules that involve the document's name; called when the name itself is valid."""
        return ()

    def check_status(self, status: StatusModel) -> Iterable[Issue]:
        """Rules between the spec and a valid `status` block (allocated within capacity)."""
        return ()


class StatusModel(BaseModel):
    """Base of a kind's optional `status` block (observed state, for offline use)."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, frozen=True)


S = TypeVar("S", bound=SpecModel)


@dataclass(frozen=True, slots=True)
class Document:
    """A validated document: its place in the input, its name and labels, spec and status."""

    file: Path
    index: int
    kind: str
    name: str
    labels: Mapping[str, str]
    spec: SpecModel
    status: StatusModel | None = None
    source: LineSource | None = field(default=None, repr=False, compare=False)

    def spec_as(self, model: type[S]) -> S:
        """The spec, typed: `doc.spec_as(NodeSpec)`; TypeError when it is another model."""
        if not isinstance(self.spec, model):
            raise TypeError(f"{self.kind} {self.name} has a {type(self.spec).__name__} spec")
        return self.spec

    def line_of(self, path: FieldPath) -> int | None:
        """The line of a field, e.g. ("spec", "cluster"), for messages; None if unknown."""
        return self.source.line_of(self.index, path) if self.source is not None else None


def dns_name_problem(name: str) -> str | None:
    """Why `name` is not a DNS-1123 label (lower-case alphanumerics and '-', ≤ 63), or None."""
    if len(name) > DNS_MAX:
        return f"must be at most {DNS_MAX} characters, got {len(name)}"
    if not _DNS.match(name):
        return (
            f"{name!r} is not a valid name: use lower-case letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return None


@dataclass(frozen=True, slots=True)
class Kind:
    """How to read and convert one kind of document.

    `namespace` is the kind whose names this one shares (NodePool declares Node names);
    `name_problem` says why a metadata.name is invalid; `convert` turns a valid document
    into domain objects (a NodePool into many Nodes).
    """

    name: str
    spec: type[SpecModel]
    convert: Callable[[Document], Iterable[object]]
    status: type[StatusModel] | None = None
    namespace: str = ""
    name_problem: Callable[[str], str | None] = dns_name_problem

    @property
    def names_kind(self) -> str:
        return self.namespace or self.name


_REGISTRY: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Makes `kind` known to the loader; registering a name twice is a programming error."""
    if kind.name in _REGISTRY:
        raise ValueError(f"kind {kind.name} is already registered")
    _REGISTRY[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Forgets a kind (for tests and plug-ins that register one for a while)."""
    _REGISTRY.pop(name, None)


def lookup(name: str) -> Kind | None:
    return _REGISTRY.get(name)


def known_kinds() -> list[str]:
    return sorted(_REGISTRY)
