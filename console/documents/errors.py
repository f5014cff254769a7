"""Errors in input documents, each naming file, document, field and line, and their collector."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tongchou.climsg import say

MAX_ERRORS = 100
"""A LoadError keeps this many errors; it counts the rest."""


@dataclass(frozen=True, slots=True)
class DocumentError:
    """One problem in the input: where it is, as precisely as known, and what is wrong.

    `index` is the 1-based position of the document in its file (None for a problem with
    the file itself), `field` a dotted camelCase path such as `spec.capacity.memory`,
    `line` 1-based.
    """

    file: Path
    index: int | None
    kind: str | None
    name: str | None
    field: str | None
    line: int | None
    message: str

    def __str__(self) -> str:
        return self.text()

    def text(self, lang: str = "en") -> str:
        """The error in `lang`: its frame translated, where and what as they are."""
        where = f"{self.file}:{self.line}" if self.line is not None else str(self.file)
        parts = [where]
        if self.index is not None:
            label = " ".join(p for p in (self.kind, self.name) if p)
            n = self.index
            parts.append(say(lang, "document_of", n=n, label=label) if label else
                         say(lang, "document", n=n))  # fmt: skip
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return ": ".join(parts)


class LoadError(Exception):
    """The input has errors: all of them (up to MAX_ERRORS) are in `errors`, in file order."""

    def __init__(self, errors: Sequence[DocumentError], omitted: int = 0) -> None:
        self.errors: list[DocumentError] = list(errors)
        self.omitted = omitted
        super().__init__(self._text())

    def _text(self) -> str:
        return self.text()

    def text(self, lang: str = "en") -> str:
        """Every error in `lang` (their frames translated), one a line."""
        lines = [e.text(lang) for e in self.errors]
        if self.omitted:
            lines.append(say(lang, "more_errors", n=self.omitted))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._text()


class ErrorSink:
    """Collects errors from every phase, then sorts them by file, document and line."""

    def __init__(self) -> None:
        self._errors: list[DocumentError] = []
        self._file_order: dict[Path, int] = {}

    def file_seen(self, file: Path) -> None:
        self._file_order.setdefault(file, len(self._file_order))

    def add(self, error: DocumentError) -> None:
        self.file_seen(error.file)
        self._errors.append(error)

    def __bool__(self) -> bool:
        return bool(self._errors)

    def has_errors(self, file: Path) -> bool:
        """True when an error about `file` has been added."""
        return any(e.file == file for e in self._errors)

    def raise_if_any(self, limit: int = MAX_ERRORS) -> None:
        if not self._errors:
            return
        order = self._file_order
        ranked = sorted(
            self._errors,
            key=lambda e: (order[e.file], e.index or 0, e.line or 0),
        )
        raise LoadError(ranked[:limit], omitted=max(0, len(ranked) - limit))
