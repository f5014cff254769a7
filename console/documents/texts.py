"""Splits YAML files into the texts of their documents (to submit them one at a time)."""

from __future__ import annotations

from pathlib import Path


def document_texts(path: Path) -> list[str]:
    """The documents with a `kind` of a file, or of every .yaml file of a folder, as texts."""
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    out: list[str] = []
    for file in files:
        chunk: list[str] = []
        for line in [*file.read_text(encoding="utf-8").splitlines(), "---"]:
            if line.strip() == "---":
                if any(part.startswith("kind:") for part in chunk):
                    out.append("\n".join(chunk) + "\n")
                chunk = []
            else:
                chunk.append(line)
    return out
