"""Estimated network latency between two divisions, from their distance in the division tree.

Government networks (电子政务外网) are built level by level: a county reaches the province
through its city. The estimate is 1 ms inside one division plus, for every edge on the tree
path between the two divisions, 4 ms between province and city, 2 ms between city and
county, 1 ms between county and township. A site in a western computing hub (内蒙古, 贵州,
甘肃, 宁夏) adds 20 ms: east–west latency is mostly within 20 ms (东数西算).
"""

from __future__ import annotations

import itertools

from tongchou.divisions import NATIONAL_CODE, Level, ancestors, level_of

INSIDE_MS = 1.0
EDGE_MS = {Level.PROVINCE: 4.0, Level.CITY: 2.0, Level.COUNTY: 1.0}  # edge to the child level
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


def latency_ms(a: str, b: str, compute_hub: str | None = None) -> float:
    """Estimated latency between divisions `a` and `b` (a site's division)."""
    if a == b:
        base = INSIDE_MS
    else:
        chain_a, chain_b = _chain(a), _chain(b)
        common = next((c for c in chain_a if c in chain_b), None)
        if common is None:  # different provinces: through the national backbone
            base = INSIDE_MS + _up(chain_a, "") + _up(chain_b, "") + 10.0
        else:
            base = INSIDE_MS + _up(chain_a, common) + _up(chain_b, common)
    return base + (WEST_MS if compute_hub in WEST_HUBS else 0.0)
