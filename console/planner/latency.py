"""Estimated network latency between a demanding division and a site, from where both are;
overridable by a measured latency matrix.

Government networks (电子政务外网) are built level by level: a county reaches the province
through its city. The estimate is 1 ms inside one division plus, for every edge on the tree
path between the two divisions, 4 ms between province and city, 2 ms between city and
county, 1 ms between county and township; two provinces meet over the national backbone
(+10 ms). A site in a western computing hub (内蒙古, 贵州, 甘肃, 宁夏) adds 20 ms for a demand
from another region only (东数西算: east–west latency is mostly within 20 ms); the hub's own
province reaches it as any other of its sites.

A matrix file (CSV: `division,site,ms`, one measured one-way latency a row, `#` comments)
replaces the estimate: a demand uses the row of its own division, or else of its nearest
listed ancestor plus the estimated tree distance from the division up to that ancestor.
"""

from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass, field
from pathlib import Path

from tongchou.divisions import NATIONAL_CODE, Level, ancestors, level_of

INSIDE_MS = 1.0
EDGE_MS = {Level.PROVINCE: 4.0, Level.CITY: 2.0, Level.COUNTY: 1.0}  # edge to the child level
BACKBONE_MS = 10.0
WEST_HUBS = frozenset({"neimenggu", "guizhou", "gansu", "ningxia"})
WEST_MS = 20.0


def _chain(code: str) -> list[str]:
    """The division and its ancestors, nearest first, without the nation."""
    return [code, *(a for a in ancestors(code) if a != NATIONAL_CODE)]


def _up(chain: list[str], stop: str) -> float:
    total = 0.0
    for child, parent in itertools.pairwise(chain):
        if child == stop:
            break
        total += EDGE_MS.get(level_of(parent), 4.0)
    return total


def _province(code: str) -> str:
    return code[:2]


def latency_ms(a: str, b: str, compute_hub: str | None = None) -> float:
    """Estimated latency between division `a` (the demand's) and `b` (a site's division)."""
    if a == b:
        base = INSIDE_MS
    else:
        chain_a, chain_b = _chain(a), _chain(b)
        common = next((c for c in chain_a if c in chain_b), None)
        if common is None:  # different provinces: through the national backbone
            base = INSIDE_MS + _up(chain_a, "") + _up(chain_b, "") + BACKBONE_MS
        else:
            base = INSIDE_MS + _up(chain_a, common) + _up(chain_b, common)
    west = compute_hub in WEST_HUBS and _province(a) != _province(b)
    return base + (WEST_MS if west else 0.0)


class LatencyMatrixError(ValueError):
    """A matrix file that cannot be read: the message names the file and line."""


@dataclass(slots=True)
class LatencyModel:
    """The estimate, with measured figures where a matrix gives them."""

    measured: dict[tuple[str, str], float] = field(default_factory=dict)  # (division, site)

    def between(self, division: str, site: str, site_division: str, hub: str | None) -> float:
        if self.measured:
            for code in _chain(division):
                got = self.measured.get((code, site))
                if got is not None:
                    return got + (latency_ms(division, code) - INSIDE_MS if code != division else 0)
        return latency_ms(division, site_division, hub)


def read_matrix(path: Path, sites: set[str]) -> LatencyModel:
    """A LatencyModel from a CSV file of `division,site,ms` rows."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise LatencyMatrixError(f"{path}: cannot read the latency matrix: {err}") from err
    measured: dict[tuple[str, str], float] = {}
    rows = csv.reader(line for line in text.splitlines())
    for number, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not cells or not any(cells) or cells[0].startswith("#"):
            continue
        if number == 1 and cells[:3] == ["division", "site", "ms"]:
            continue
        where = f"{path}:{number}"
        if len(cells) != 3:
            raise LatencyMatrixError(f"{where}: expected division,site,ms, got {len(cells)} cells")
        division, site, ms = cells
        if not (division.isdigit() and len(division) in (6, 9)):
            raise LatencyMatrixError(f"{where}: division {division!r} is not a GB/T 2260 code")
        if site not in sites:
            raise LatencyMatrixError(f"{where}: site {site!r} is not in the fleet")
        try:
            value = float(ms)
        except ValueError:
            raise LatencyMatrixError(f"{where}: ms {ms!r} is not a number") from None
        if not 0 <= value <= 10_000:
            raise LatencyMatrixError(f"{where}: ms must be between 0 and 10000, got {value:g}")
        if (division, site) in measured:
            raise LatencyMatrixError(f"{where}: {division} to {site} is given twice")
        measured[division, site] = value
    return LatencyModel(measured)
