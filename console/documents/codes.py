"""The national division table (GB/T 2260 codes with names) and the check of a code against it.

The table ships as package data (`data/gbt2260.tsv.gz`, built by scripts/division_table.py
from the 2023 statistical division codes of the National Bureau of Statistics). A code that
is well formed but not in the table is refused with a hint, unless new codes are allowed:
`tongchou validate --allow-new-codes`, the `allowing_new_codes()` block, or the environment
variable TONGCHOU_ALLOW_NEW_CODES=1 (for divisions created after the table was built).
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from importlib import resources

from tongchou.divisions import NATIONAL_CODE, DivisionCodeError, check_code, level_of

ENV_ALLOW = "TONGCHOU_ALLOW_NEW_CODES"
"""Set to 1 (or true, yes) to accept well-formed codes that are not in the table."""

TABLE_SOURCE = "GB/T 2260 (National Bureau of Statistics division codes, 2023)"

_allow: ContextVar[bool] = ContextVar("tongchou_allow_new_codes", default=False)
_also: ContextVar[frozenset[str]] = ContextVar("tongchou_also_known_codes", default=frozenset())


@cache
def table() -> dict[str, str]:
    """Every division of the national table: 6- or 9-digit code → name (Chinese)."""
    data = resources.files("console.documents").joinpath("data/gbt2260.tsv.gz").read_bytes()
    out: dict[str, str] = {NATIONAL_CODE: "中华人民共和国"}
    for line in gzip.decompress(data).decode("utf-8").splitlines():
        code, _, name = line.partition("\t")
        out[code] = name
    return out


def name_of(code: str) -> str | None:
    """The name of a division in the national table, or None."""
    return table().get(code)


def new_codes_allowed() -> bool:
    """True inside `allowing_new_codes()` or when TONGCHOU_ALLOW_NEW_CODES is set."""
    if _allow.get():
        return True
    return os.environ.get(ENV_ALLOW, "").strip().lower() in ("1", "true", "yes")


@contextmanager
def allowing_new_codes(allow: bool = True, also: Collection[str] = ()) -> Iterator[None]:
    """Within the block, well-formed codes missing from the national table are accepted
    (all of them when `allow`, else those in `also`, e.g. the divisions a hub knows)."""
    token = _allow.set(allow or _allow.get())
    extra = _also.set(_also.get() | frozenset(also))
    try:
        yield
    finally:
        _also.reset(extra)
        _allow.reset(token)


def normalise(value: object) -> str:
    """A division code as written in YAML, quoted or not (440106 or "440106"), as a string.

    Raises DivisionCodeError for anything else: booleans, floats, negative numbers, text
    that is not 6 or 9 digits. The code is checked for form only, not against the table.
    """
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise DivisionCodeError(f"must be a division code such as 440106, got {_show(value)}")
    text = str(value).strip() if isinstance(value, str) else str(value)
    if isinstance(value, int) and value < 0:
        raise DivisionCodeError(f"{text!r} is not a division code: expected 6 or 9 digits")
    return check_code(text)


def problem(code: str) -> str | None:
    """Why `code` (already well formed) is not accepted, with a hint; None when it is."""
    if code in table() or code in _also.get() or new_codes_allowed():
        return None
    return f"{code} is not in the national division table{_hint(code)}"


def check_known(value: object) -> str:
    """`normalise(value)`, then refused when not in the table (unless new codes are allowed)."""
    code = normalise(value)
    message = problem(code)
    if message is not None:
        raise DivisionCodeError(message)
    return code


def _hint(code: str) -> str:
    known = table()
    parent = _nearest_known_parent(code)
    parts: list[str] = []
    if parent is not None and parent != NATIONAL_CODE:
        close = sorted(_children(parent), key=lambda c: abs(int(c) - int(code)))[:3]
        listed = ", ".join(f"{c} {known[c]}" for c in sorted(close))
        parts.append(f"; {parent} {known[parent]} is" + (f", with {listed}" if listed else ""))
    elif code[:2] + "0000" not in known:
        parts.append(f"; there is no province {code[:2]}0000")
    parts.append(
        f"; the table is {TABLE_SOURCE}: for a newer division pass --allow-new-codes "
        f"or set {ENV_ALLOW}=1"
    )
    return "".join(parts)


def _nearest_known_parent(code: str) -> str | None:
    known = table()
    candidates = [code[:6]] if len(code) == 9 else []
    try:
        level = level_of(code[:6])
    except DivisionCodeError:
        return None
    if level.value in ("county", "township"):
        candidates.append(code[:4] + "00")
    candidates.append(code[:2] + "0000")
    for candidate in candidates:
        if candidate != code and candidate in known:
            return candidate
    return None


def _children(parent: str) -> Iterator[str]:
    """Codes one level below `parent` in the table."""
    level = level_of(parent).value
    for code in table():
        if code == parent:
            continue
        if level == "province":
            below = len(code) == 6 and code[:2] == parent[:2] and code[4:] == "00"
        elif level == "city":
            below = len(code) == 6 and code[:4] == parent[:4] and code[4:] != "00"
        else:
            below = len(code) == 9 and code[:6] == parent
        if below:
            yield code


def _show(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return repr(value) if isinstance(value, str) else str(value)
