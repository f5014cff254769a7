"""Reads YAML files into plain values while keeping each field's line for error messages."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from console.documents.errors import DocumentError, ErrorSink

try:
    _Loader: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_MAX_DEPTH = 64
FieldPath = tuple[str | int, ...]
"""A field path: mapping keys and sequence indexes, e.g. ("spec", "capacity", "cpu")."""


def field_name(path: FieldPath) -> str:
    """A path as the user writes it: `spec.capacity.cpu`, `spec.instances[0].site`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def line_in(root: yaml.Node, path: FieldPath) -> int:
    """The line of the field at `path` under `root`; for a missing field, its parent's key line."""
    node = root
    line = int(node.start_mark.line) + 1
    for part in path:
        found: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == part:
                    line = int(key.start_mark.line) + 1
                    found = value
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            found = node.value[part]
            line = int(found.start_mark.line) + 1
        if found is None:
            break
        node = found
    return line


class LineSource:
    """Finds the lines of fields in one file's documents after the YAML nodes are gone.

    Keeping every node of a large input alive costs memory and garbage-collector time, so
    the file is composed again, once, the first time a line is asked for.
    """

    def __init__(self, file: Path, text: str | None = None) -> None:
        self.file = file
        self.text = text  # given for documents that did not come from a file
        self._roots: list[yaml.Node] | None = None

    def line_of(self, index: int, path: FieldPath) -> int | None:
        """The line of `path` in document `index` (1-based), or None if the file changed."""
        if self._roots is None:
            self._roots = _compose(self.file, self.text)
        if not 1 <= index <= len(self._roots):
            return None
        return line_in(self._roots[index - 1], path)


def _compose(file: Path, text: str | None = None) -> list[yaml.Node]:
    roots: list[yaml.Node] = []
    try:
        if text is None:
            text = file.read_text(encoding="utf-8-sig")
        for node in yaml.compose_all(text, Loader=_Loader):
            roots.append(node if node is not None else yaml.ScalarNode(_NULL, ""))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        pass
    return roots


@dataclass(frozen=True, slots=True)
class RawDocument:
    """One YAML document of a file: plain Python values, and its node while it is checked."""

    file: Path
    index: int
    value: object
    node: yaml.Node
    source: LineSource

    def line_of(self, path: FieldPath) -> int:
        return line_in(self.node, path)


def expand_paths(paths: Sequence[Path], sink: ErrorSink) -> list[Path]:
    """Files in order: a directory gives its *.yaml and *.yml files, sorted, not recursive."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()
            )
            if not found:
                sink.add(_file_error(path, "directory holds no .yaml or .yml files"))
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            sink.add(_file_error(path, "no such file or directory"))
    unique: dict[Path, Path] = {}
    for file in files:  # a file named twice (as itself and through its folder) is read once
        unique.setdefault(file.resolve(), file)
    return list(unique.values())


def read_documents(file: Path, sink: ErrorSink, text: str | None = None) -> Iterator[RawDocument]:
    """Every non-empty document of `file` (or of `text`, named `file` in messages); YAML
    problems go to `sink` with their line."""
    sink.file_seen(file)
    source = LineSource(file, text)
    if text is None:
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as err:
            sink.add(_file_error(file, f"cannot read: {err}"))
            return
    index = 0
    nodes = yaml.compose_all(text, Loader=_Loader)
    while True:
        try:
            node = next(nodes)
        except StopIteration:
            return
        except yaml.MarkedYAMLError as err:
            mark = err.problem_mark or err.context_mark
            line = mark.line + 1 if mark is not None else None
            what = " ".join(p for p in (err.context, err.problem) if p)
            sink.add(DocumentError(file, index + 1, None, None, None, line, f"bad YAML: {what}"))
            return
        except yaml.YAMLError as err:
            sink.add(DocumentError(file, index + 1, None, None, None, None, f"bad YAML: {err}"))
            return
        index += 1
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL):
            continue
        problems: list[tuple[yaml.Node, str]] = []
        value = _Plain(problems.append).convert(node, 0)
        for where, message in problems:
            line = where.start_mark.line + 1
            sink.add(DocumentError(file, index, None, None, None, line, message))
        if not problems:
            yield RawDocument(file, index, value, node, source)


def _file_error(file: Path, message: str) -> DocumentError:
    return DocumentError(file, None, None, None, None, None, message)


class _Plain:
    """Turns composed nodes into dicts, lists and scalars; reports duplicate and odd keys."""

    _constructor = SafeConstructor()
    _scalars: dict[Any, Any] = SafeConstructor.yaml_constructors

    def __init__(self, report: Callable[[tuple[yaml.Node, str]], None]) -> None:
        self._report = report

    def convert(self, node: yaml.Node, depth: int) -> object:
        if depth > _MAX_DEPTH:
            self._report((node, f"nesting deeper than {_MAX_DEPTH} levels"))
            return None
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, depth + 1) for item in node.value]
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, depth)
        self._report((node, "unsupported YAML node"))  # pragma: no cover
        return None

    def _scalar(self, node: yaml.ScalarNode) -> object:
        if node.tag == _STR:
            return node.value
        construct = self._scalars.get(node.tag)
        if construct is None:
            self._report((node, f"unsupported YAML tag {node.tag}"))
            return None
        try:
            return construct(self._constructor, node)
        except (ConstructorError, ValueError) as err:
            self._report((node, f"bad YAML value {node.value!r}: {err}"))
            return None

    def _mapping(self, node: yaml.MappingNode, depth: int) -> dict[str, object]:
        if node.tag != "tag:yaml.org,2002:map":
            self._report((node, f"unsupported YAML tag {node.tag}"))
        if any(k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value):
            self._constructor.flatten_mapping(node)
        out: dict[str, object] = {}
        for key_node, value_node in node.value:
            key = self._scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                self._report((key_node, f"keys must be strings, got {_text(key_node)}"))
                continue
            if key in out:
                self._report((key_node, f"duplicate key {key!r}"))
                continue
            out[key] = self.convert(value_node, depth + 1)
        return out


def _text(node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode):
        return repr(node.value)
    return "a mapping" if isinstance(node, yaml.MappingNode) else "a list"
