"""GB/T 2260 division codes: their level, their parent, and subtree membership."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    """Government level, from the top."""

    NATIONAL = "national"
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"

    @property
    def rank(self) -> int:
        """0 for national, 4 for township: a smaller rank is a higher level."""
        return _RANKS[self]


_RANKS = {level: i for i, level in enumerate(Level)}

NATIONAL_CODE = "000000"


class DivisionCodeError(ValueError):
    """A string that is not a GB/T 2260 division code."""


def check_code(code: str) -> str:
    """Returns `code` when it is a 6-digit or 9-digit division code; raises otherwise."""
    if not isinstance(code, str) or not code.isascii() or not code.isdigit():
        raise DivisionCodeError(f"{code!r} is not a division code: expected 6 or 9 digits")
    if len(code) not in (6, 9):
        raise DivisionCodeError(
            f"{code!r} is not a division code: expected 6 digits (province, city, county) "
            "or 9 digits (township)"
        )
    if code == NATIONAL_CODE:
        return code
    if code[:2] == "00":
        raise DivisionCodeError(f"{code!r} is not a division code: province digits are 00")
    if len(code) == 9 and code[6:] == "000":
        raise DivisionCodeError(f"{code!r} is not a township code: township digits are 000")
    if code[2:4] == "00" and code[4:6] != "00":
        raise DivisionCodeError(f"{code!r} is not a division code: county under prefecture 00")
    return code


def level_of(code: str) -> Level:
    """The level a code names: PP0000 province, PPCC00 city, PPCCDD county, 9 digits township."""
    check_code(code)
    if code == NATIONAL_CODE:
        return Level.NATIONAL
    if len(code) == 9:
        return Level.TOWNSHIP
    if code[2:] == "0000":
        return Level.PROVINCE
    if code[4:] == "00":
        return Level.CITY
    return Level.COUNTY


def parent_candidates(code: str) -> tuple[str, ...]:
    """Codes that may be the parent of `code`, nearest first.

    A township hangs under its county, or directly under a city without districts
    (东莞 441900003 under 441900). A county hangs under its city, or, for counties run
    directly by the province (湖北 429004 仙桃市), under the placeholder 429000 or the
    province itself. A city hangs under its province, a province under the nation.
    """
    level = level_of(code)
    if level is Level.NATIONAL:
        return ()
    if level is Level.PROVINCE:
        return (NATIONAL_CODE,)
    if level is Level.CITY:
        return (code[:2] + "0000",)
    if level is Level.COUNTY:
        city = code[:4] + "00"
        if code[2:4] == "90":
            return (city, code[:2] + "0000")
        return (city,)
    return (code[:6],)


def ancestors(code: str) -> tuple[str, ...]:
    """Every code that may contain `code` by its digits, nearest first (not `code` itself)."""
    level = level_of(code)
    out: list[str] = []
    if level is Level.TOWNSHIP:
        out.append(code[:6])
        code = code[:6]
        level = level_of(code)
    if level is Level.COUNTY:
        out.append(code[:4] + "00")
    if level in (Level.COUNTY, Level.CITY):
        out.append(code[:2] + "0000")
    if level is not Level.NATIONAL:
        out.append(NATIONAL_CODE)
    return tuple(dict.fromkeys(c for c in out))


def contains(scope: str, code: str) -> bool:
    """True when `code` lies in the subtree of `scope` (a division contains itself)."""
    return scope == code or scope in ancestors(code)
