"""Named filters per view (nodes, events), kept in one JSON file under the state directory."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

VIEWS = ("nodes", "events")
MAX_NAME = 60


class SavedFiltersError(ValueError):
    """The file cannot be read as saved filters; the message names it and says why."""


class SavedFilters:
    """`{"nodes": {"gz ready": "440100 ready"}, "events": {...}}` in `path`. Reading and
    writing touch the disk: call them off the event loop."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.by_view: dict[str, dict[str, str]] = {view: {} for view in VIEWS}

    def load(self) -> None:
        """Reads the file; none yet is no filter. SavedFiltersError for a file that is not
        saved filters (then nothing is taken from it)."""
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except OSError as err:
            raise SavedFiltersError(f"{self.path}: {err.strerror or err}") from None
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as err:
            raise SavedFiltersError(f"{self.path}:{err.lineno}: not JSON: {err.msg}") from None
        if not isinstance(data, dict):
            raise SavedFiltersError(f"{self.path}: expected an object of views, not {data!r:.40}")
        loaded: dict[str, dict[str, str]] = {view: {} for view in VIEWS}
        for view, filters in data.items():
            if view not in VIEWS or not isinstance(filters, dict):
                raise SavedFiltersError(
                    f"{self.path}: {view!r}: expected one of {', '.join(VIEWS)} holding "
                    "name → filter"
                )
            for name, query in filters.items():
                if not isinstance(query, str):
                    raise SavedFiltersError(f"{self.path}: {view}.{name}: a filter is text")
                loaded[view][str(name)] = query
        self.by_view = loaded

    def write(self) -> None:
        """Replaces the file at once (a crash leaves the old one or the new one)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".filters-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(self.by_view, out, ensure_ascii=False, indent=2, sort_keys=True)
                out.write("\n")
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put(self, view: str, name: str, query: str) -> None:
        self.by_view[view][name] = query

    def names(self, view: str) -> list[str]:
        return sorted(self.by_view[view])

    def get(self, view: str, name: str) -> str | None:
        return self.by_view[view].get(name)
