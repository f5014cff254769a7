"""Checks across documents: names unique within a kind, references naming declared documents."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from console.documents.errors import DocumentError, ErrorSink
from console.documents.kinds import SpecModel
from console.documents.messages import suggest
from console.documents.source import FieldPath, field_name
from console.documents.validate import Checked

_NAME: FieldPath = ("metadata", "name")


def link(
    checked: Sequence[Checked],
    sink: ErrorSink,
    known: Mapping[str, Collection[str]] | None = None,
) -> None:
    """Reports duplicate names and dangling references among `checked` into `sink`.
    `known` names, by kind, count as declared elsewhere (a hub's live divisions).

    Documents that failed their own checks still declare their name, so that a reference
    to them is not reported a second time.
    """
    declared: dict[str, dict[str, Checked]] = {}
    for item in checked:
        if item.kind is None or item.name is None:
            continue
        names = _declared_names(item)
        if not names:
            continue
        table = declared.setdefault(item.kind.names_kind, {})
        clashes = [name for name in names if name in table]
        if clashes:
            _duplicate(item, clashes, table[clashes[0]], sink)
        for name in names:
            table.setdefault(name, item)
    extra = known or {}
    for item in checked:
        doc = item.document
        if doc is None:
            continue
        for ref in doc.spec.references(doc.name):
            table = declared.get(ref.target, {})
            if ref.value not in table and ref.value not in extra.get(ref.target, ()):
                # Codes that look alike are not related divisions: no hint for them.
                hint = "" if ref.target == "Division" else suggest(ref.value, table)
                _report(item, ref.path, f'{ref.target} "{ref.value}" is not declared{hint}', sink)


def _declared_names(item: Checked) -> Sequence[str]:
    assert item.kind is not None and item.name is not None
    if item.document is not None:
        return item.document.spec.declared_names(item.name)
    if item.kind.spec.declared_names is SpecModel.declared_names:
        return (item.name,)
    return ()  # an invalid pool: its node names are unknown


def _duplicate(item: Checked, clashes: Sequence[str], first: Checked, sink: ErrorSink) -> None:
    assert item.kind is not None and first.kind is not None
    where = f"{first.file}:{first.line_of(_NAME)} (document {first.index})"
    kind = item.kind.names_kind
    if clashes == [item.name] and first.name == item.name:
        message = f'duplicate {kind} name "{item.name}", first declared at {where}'
    else:
        more = f" and {len(clashes) - 1} more" if len(clashes) > 1 else ""
        message = (
            f'declares {kind} "{clashes[0]}"{more}, already declared by '
            f"{first.kind.name} {first.name} at {where}"
        )
    _report(item, _NAME, message, sink)


def _report(item: Checked, path: FieldPath, message: str, sink: ErrorSink) -> None:
    kind = item.kind.name if item.kind is not None else None
    line = item.line_of(path)
    sink.add(DocumentError(item.file, item.index, kind, item.name, field_name(path), line, message))
