"""Splits YAML files into the texts of their documents (to submit them one at a time), and
puts a position inside one back into its file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SUBMITTED = re.compile(r"submitted documents?:(\d+)")
"""How the hub names a position in a document it was sent (`submitted document:5:3`)."""


@dataclass(frozen=True, slots=True)
class DocumentText:
    """One document of a file: its text and the line of the file it starts on (1-based)."""

    file: Path
    line: int
    text: str

    def locate(self, message: str) -> str:
        """`message` with the hub's `submitted document:N` turned into `file:line`."""
        return SUBMITTED.sub(lambda m: f"{self.file}:{self.line + int(m.group(1)) - 1}", message)


def documents_of(path: Path) -> list[DocumentText]:
    """The documents with a `kind` of a file, or of every .yaml file of a folder."""
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    out: list[DocumentText] = []
    for file in files:
        chunk: list[str] = []
        start = 1
        lines = file.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate([*lines, "---"], start=1):
            if line.strip() == "---":
                if any(part.startswith("kind:") for part in chunk):
                    out.append(DocumentText(file, start, "\n".join(chunk) + "\n"))
                chunk = []
                start = number + 1
            else:
                chunk.append(line)
    return out


def document_texts(path: Path) -> list[str]:
    """The texts of `documents_of(path)`."""
    return [d.text for d in documents_of(path)]
