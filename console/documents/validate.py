"""Checks one raw document: envelope, metadata, name, then its kind's spec and status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from console.documents.errors import DocumentError, ErrorSink
from console.documents.fields import show
from console.documents.kinds import API_VERSION, DNS_MAX, Document, Kind, known_kinds, lookup
from console.documents.messages import describe, error_path, suggest, unknown_field
from console.documents.source import FieldPath, LineSource, RawDocument, field_name

_ENVELOPE = ("apiVersion", "kind", "metadata", "spec", "status")
_METADATA = ("name", "labels")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Checked:
    """What one document yielded: its kind and name when readable, the document when valid."""

    file: Path
    index: int
    kind: Kind | None
    name: str | None
    document: Document | None
    source: LineSource = field(repr=False, compare=False)

    def line_of(self, path: FieldPath) -> int | None:
        return self.source.line_of(self.index, path)


class _Reporter:
    """Adds errors about one document, filling in its kind and name once known."""

    def __init__(self, raw: RawDocument, sink: ErrorSink) -> None:
        self.raw = raw
        self.sink = sink
        self.kind: str | None = None
        self.name: str | None = None
        self.count = 0

    def __call__(self, path: FieldPath, message: str) -> None:
        self.count += 1
        line = self.raw.line_of(path)
        self.sink.add(
            DocumentError(
                self.raw.file,
                self.raw.index,
                self.kind,
                self.name,
                field_name(path) or None,
                line,
                message,
            )
        )


def check_document(raw: RawDocument, sink: ErrorSink) -> Checked:
    """Validates `raw`; every problem goes to `sink`; the document is returned only if valid."""
    report = _Reporter(raw, sink)
    body = raw.value
    if not isinstance(body, dict):
        report(
            (),
            f"a document must be a mapping with apiVersion, kind, metadata and spec, got "
            f"{show(body)}",
        )
        return _checked(raw, None, None, None)
    _label(body, report)
    kind = _kind(body, report)
    name, labels = _metadata(body.get("metadata"), report)
    report.name = name
    allowed = _ENVELOPE if kind is None or kind.status is not None else _ENVELOPE[:4]
    for key in body:
        if key not in allowed:
            report((key,), unknown_field(key, allowed))
    if kind is None:
        return _checked(raw, None, name, None)
    if name is not None:
        problem = kind.name_problem(name)
        if problem is not None:
            report(("metadata", "name"), problem)
    spec = _validate(kind.spec, body.get("spec"), "spec", report)
    status = None
    if kind.status is not None and body.get("status") is not None:
        status = _validate(kind.status, body["status"], "status", report)
    if report.count or spec is None or name is None:
        return _checked(raw, kind, name, None)
    for path, message in spec.check(name):
        report(path, message)
    if status is not None:
        for path, message in spec.check_status(status):
            report(path, message)
    if report.count:
        return _checked(raw, kind, name, None)
    doc = Document(raw.file, raw.index, kind.name, name, labels, spec, status, raw.source)
    return _checked(raw, kind, name, doc)


def _checked(
    raw: RawDocument, kind: Kind | None, name: str | None, doc: Document | None
) -> Checked:
    return Checked(raw.file, raw.index, kind, name, doc, raw.source)


def _label(body: Mapping[str, object], report: _Reporter) -> None:
    """Kind and name for the messages, read before anything is checked."""
    kind, meta = body.get("kind"), body.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    report.kind = kind if isinstance(kind, str) else None
    if isinstance(name, (str, int)) and not isinstance(name, bool):
        text = str(name)
        report.name = text if len(text) <= DNS_MAX else text[: DNS_MAX - 1] + "…"
    else:
        report.name = None


def _kind(body: Mapping[str, object], report: _Reporter) -> Kind | None:
    version = body.get("apiVersion")
    if "apiVersion" not in body:
        report(("apiVersion",), f"required field is missing; use {API_VERSION}")
    elif version != API_VERSION:
        report(("apiVersion",), f"must be {API_VERSION}, got {show(version)}")
    name = body.get("kind")
    if "kind" not in body:
        report(("kind",), "required field is missing")
        return None
    if not isinstance(name, str):
        report(("kind",), f"must be a string, got {show(name)}")
        return None
    kind = lookup(name)
    if kind is None:
        hint = suggest(name, known_kinds()) or f"; expected one of: {', '.join(known_kinds())}"
        report(("kind",), f'unknown kind "{name}"{hint}')
        return None
    return kind if version == API_VERSION else None


def _metadata(meta: object, report: _Reporter) -> tuple[str | None, Mapping[str, str]]:
    labels: dict[str, str] = {}
    if meta is None:
        report(("metadata",), "required field is missing")
        return None, labels
    if not isinstance(meta, dict):
        report(("metadata",), f"must be a mapping, got {show(meta)}")
        return None, labels
    for key in meta:
        if key not in _METADATA:
            report(("metadata", key), unknown_field(key, _METADATA))
    name = meta.get("name")
    if isinstance(name, int) and not isinstance(name, bool) and name > 0:
        name = str(name)  # a division code written unquoted
    if name is None:
        report(("metadata", "name"), "required field is missing")
    elif not isinstance(name, str):
        report(("metadata", "name"), f"must be a string, got {show(name)}")
        name = None
    elif not name.strip():
        report(("metadata", "name"), "must not be empty")
        name = None
    raw_labels = meta.get("labels")
    if isinstance(raw_labels, dict):
        for key, value in raw_labels.items():
            if isinstance(value, str):
                labels[key] = value
            else:
                report(("metadata", "labels", key), f"must be a string, got {show(value)}")
    elif raw_labels is not None:
        report(("metadata", "labels"), f"must be a mapping, got {show(raw_labels)}")
    return name, MappingProxyType(labels)


def _validate(model: type[M], value: object, where: str, report: _Reporter) -> M | None:
    if value is None:
        report((where,), "required field is missing")
        return None
    try:
        return model.model_validate(value)
    except ValidationError as err:
        for error in err.errors():
            report((where, *error_path(error)), describe(error, model))
        return None
