"""Reads YAML files into plain values while keeping each field's line for error messages.

Input is untrusted: a file or an API request is read within `Limits` (bytes, nesting depth,
and values after alias expansion, so that a few hundred bytes of nested anchors cannot
expand into billions of values), and every problem is an error with its line.
"""

from __future__ import annotations

import math
import os
import re
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
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
# YAML 1.2 reads 1e308 and 2E-3 as numbers; PyYAML's YAML 1.1 rules want a dot ("1.0e308").
_FLOAT12 = re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$")


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on one YAML input (a file, or the text of an API request).

    `max_values` counts every mapping, list and scalar after alias expansion, over all the
    documents of the input; `max_depth` is the deepest nesting of mappings and lists.
    """

    max_bytes: int = 16 * 2**20
    max_values: int = 1_000_000
    max_depth: int = 64


FILE_LIMITS = Limits()
"""Files named on the command line (the whole sample province is about 120 KiB)."""

TEXT_LIMITS = Limits(max_bytes=4 * 2**20, max_values=200_000)
"""Documents sent to the hub's API."""

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
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
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


def expand_paths(paths: Sequence[Path], sink: ErrorSink, *, recursive: bool = False) -> list[Path]:
    """Files in order: a directory gives its *.yaml and *.yml files, sorted; `recursive`
    takes those of its subdirectories too (sorted by their path under it; hidden ones and
    symbolic links to directories are skipped)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = _yaml_files(path, recursive)
            if not found:
                where = " or its subdirectories" if recursive else ""
                sink.add(_file_error(path, f"directory{where} holds no .yaml or .yml files"))
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            sink.add(_file_error(path, "no such file or directory"))
    unique: dict[Path, Path] = {}
    for file in files:  # a file named twice (as itself and through its folder) is read once
        unique.setdefault(file.resolve(), file)
    return list(unique.values())


def _yaml_files(folder: Path, recursive: bool) -> list[Path]:
    if not recursive:
        return sorted(p for p in folder.iterdir() if p.suffix in _SUFFIXES and p.is_file())
    found = []
    for top, dirs, names in os.walk(folder):  # does not follow links to directories
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        here = Path(top)
        found += [here / n for n in names if Path(n).suffix in _SUFFIXES and (here / n).is_file()]
    return sorted(found, key=lambda p: p.relative_to(folder).parts)


_SUFFIXES = (".yaml", ".yml")


def read_documents(
    file: Path, sink: ErrorSink, text: str | None = None, limits: Limits = FILE_LIMITS
) -> Iterator[RawDocument]:
    """Every non-empty document of `file` (or of `text`, named `file` in messages), read
    within `limits`; YAML problems go to `sink` with their line. An input without any
    document (empty, or only comments) is an error."""
    sink.file_seen(file)
    source = LineSource(file, text)
    text = _read(file, sink, text, limits)
    if text is None:
        return
    budget = Budget(limits)
    found = 0
    for index, node in _composed(file, text, sink):
        found += 1
        problem = budget.spend(node)
        if problem is not None:
            sink.add(
                DocumentError(file, index, None, None, None, node.start_mark.line + 1, problem)
            )
            return
        problems: list[tuple[yaml.Node, str]] = []
        value = _Plain(problems.append).convert(node, 0)
        for where, message in problems:
            line = where.start_mark.line + 1
            sink.add(DocumentError(file, index, None, None, None, line, message))
        if not problems:
            yield RawDocument(file, index, value, node, source)
    if not found and not sink.has_errors(file):
        sink.add(_file_error(file, "holds no documents (the file is empty or only comments)"))


def _read(file: Path, sink: ErrorSink, text: str | None, limits: Limits) -> str | None:
    """The input's text, or None (with an error in `sink`) when it is unreadable or too big."""
    try:
        size = (
            len(text.encode("utf-8", "surrogatepass")) if text is not None else file.stat().st_size
        )
    except OSError as err:
        sink.add(_file_error(file, f"cannot read: {err.strerror or err}"))
        return None
    if size > limits.max_bytes:
        sink.add(
            _file_error(file, f"is {size:,} bytes; an input may hold at most {limits.max_bytes:,}")
        )
        return None
    if text is not None:
        return text
    try:
        return file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        sink.add(
            _file_error(
                file, f"is not UTF-8 text: byte {err.start} is {err.object[err.start]:#04x}"
            )
        )
    except OSError as err:
        sink.add(_file_error(file, f"cannot read: {err.strerror or err}"))
    return None


def _composed(file: Path, text: str, sink: ErrorSink) -> Iterator[tuple[int, yaml.Node]]:
    """The non-empty documents of `text` as YAML nodes, with their 1-based index."""
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
        except yaml.reader.ReaderError as err:
            line = text.count("\n", 0, err.position) + 1
            char = err.character
            shown = f"U+{char:04X}" if isinstance(char, int) else repr(char)
            what = f"character {shown} is not allowed ({err.reason})"
            sink.add(DocumentError(file, index + 1, None, None, None, line, f"bad YAML: {what}"))
            return
        except yaml.YAMLError as err:
            sink.add(DocumentError(file, index + 1, None, None, None, None, f"bad YAML: {err}"))
            return
        except RecursionError:
            message = "bad YAML: nesting too deep to read"
            sink.add(DocumentError(file, index + 1, None, None, None, None, message))
            return
        index += 1
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL):
            continue
        yield index, node


class Budget:
    """What one input may still hold: values after alias expansion, and nesting depth."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.left = limits.max_values

    def spend(self, root: yaml.Node) -> str | None:
        """Takes the values of the document `root` from the budget; a message when it is over
        (or when the document nests too deep, or an alias names its own ancestor)."""
        limits = self.limits
        sizes: dict[int, int] = {}
        depths: dict[int, int] = {}
        stack: list[tuple[yaml.Node, bool]] = [(root, False)]
        open_nodes: set[int] = set()
        while stack:
            node, done = stack.pop()
            key = id(node)
            if key in sizes:
                continue
            children = _children(node)
            if done:
                open_nodes.discard(key)
                size = 1 + sum(sizes[id(c)] for c in children)
                sizes[key] = min(size, limits.max_values + 1)
                depths[key] = 1 + max((depths[id(c)] for c in children), default=-1)
                if depths[key] > limits.max_depth:
                    return f"nesting deeper than {limits.max_depth} levels"
                continue
            if key in open_nodes:
                return "an alias names a mapping or list that contains it (a recursive alias)"
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
        self.left -= sizes[id(root)]
        if self.left < 0:
            return (
                f"holds more than {limits.max_values:,} values after aliases are expanded; "
                f"an input may hold at most {limits.max_values:,}"
            )
        return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _file_error(file: Path, message: str) -> DocumentError:
    return DocumentError(file, None, None, None, None, None, message)


class _Plain:
    """Turns composed nodes into dicts, lists and scalars; reports duplicate and odd keys."""

    _constructor = SafeConstructor()
    _scalars: dict[Any, Any] = SafeConstructor.yaml_constructors

    def __init__(self, report: Callable[[tuple[yaml.Node, str]], None]) -> None:
        self._report = report

    def convert(self, node: yaml.Node, depth: int) -> object:
        if depth > FILE_LIMITS.max_depth:  # Budget.spend has refused deeper documents
            self._report((node, f"nesting deeper than {FILE_LIMITS.max_depth} levels"))
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
            if not node.style and _FLOAT12.match(node.value):  # plain, not quoted
                return self._float(node)
            return node.value
        if node.tag == _TIMESTAMP:
            return node.value  # a date is text to every field; no field holds a timestamp
        construct = self._scalars.get(node.tag)
        if construct is None:
            self._report((node, f"unsupported YAML tag {node.tag}"))
            return None
        try:
            return construct(self._constructor, node)
        except (ConstructorError, ValueError) as err:
            shown = node.value if len(node.value) <= 40 else node.value[:39] + "…"
            self._report((node, f"bad YAML value {shown!r}: {str(err)[:200]}"))
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

    def _float(self, node: yaml.ScalarNode) -> object:
        value = float(node.value)
        if not math.isfinite(value):
            self._report((node, f"{node.value} is too large for a number"))
            return None
        return value


def _text(node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode):
        return repr(node.value)
    return "a mapping" if isinstance(node, yaml.MappingNode) else "a list"
