"""Loads document files and directories: read, validate each document, then link them."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from console.documents.codes import allowing_new_codes
from console.documents.errors import ErrorSink
from console.documents.fleet import build_fleet
from console.documents.kinds import Document
from console.documents.link import link
from console.documents.source import TEXT_LIMITS, Limits, expand_paths, read_documents
from console.documents.validate import Checked, check_document
from console.model.fleet import Fleet


def load_documents(
    paths: Sequence[Path], *, allow_new_codes: bool = False, recursive: bool = False
) -> list[Document]:
    """Every document of `paths`, validated and linked, in input order.

    A path is a file or a directory (its *.yaml and *.yml files, sorted; with `recursive`
    those of its subdirectories too).
    Division codes must be in the national table unless `allow_new_codes`.
    Raises LoadError listing every problem found (up to MAX_ERRORS).
    """
    sink = ErrorSink()
    checked: list[Checked] = []
    with allowing_new_codes(allow_new_codes):
        for file in expand_paths([Path(p) for p in paths], sink, recursive=recursive):
            checked.extend(check_document(raw, sink) for raw in read_documents(file, sink))
    link(checked, sink)
    sink.raise_if_any()
    return [item.document for item in checked if item.document is not None]


def load_text(
    text: str,
    origin: str,
    *,
    known: Mapping[str, Collection[str]] | None = None,
    limits: Limits = TEXT_LIMITS,
) -> list[Document]:
    """The documents of `text` (named `origin` in messages), read within `limits`, validated
    and linked; `known` names by kind count as declared (e.g. the divisions a hub knows; its
    division codes are accepted even when newer than the national table)."""
    sink = ErrorSink()
    also = (known or {}).get("Division", ())
    with allowing_new_codes(False, also):
        raws = read_documents(Path(origin), sink, text, limits)
        checked = [check_document(raw, sink) for raw in raws]
    link(checked, sink, known)
    sink.raise_if_any()
    return [item.document for item in checked if item.document is not None]


def load_fleet(paths: Sequence[Path]) -> Fleet:
    """The fleet (divisions, sites, clusters, nodes) declared by the documents of `paths`."""
    return build_fleet(load_documents(paths))
