"""Showback: what each division's use of the shared platforms costs in this plan, beside
what building its own would cost.

A demand's share is what the plan assigns it, to the fen (console.planner.report): its part
of the servers bought and their energy over the horizon where it is served (by load, i.e.
by units of the platform) and its part of a new instance's base servers and build cost
(shared among the instance's tenants by load). Reusing free capacity of an existing
instance costs nothing new: existing servers and instances are sunk costs.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from console.planner.problem import Problem
from console.planner.report import BUILDS, ENERGY, SERVERS, Plan
from tongchou.divisions import level_of

COLUMNS = (
    "division", "divisionLevel", "platform", "units", "action", "site", "siteLevel",
    "provider", "serversCny", "energyCny", "buildsCny", "totalCny", "aloneCny", "savesCny",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Row:
    division: str
    division_level: str
    platform: str
    units: float
    action: str
    site: str
    site_level: str
    provider: str
    parts_fen: tuple[int, ...]
    alone_fen: int

    @property
    def total_fen(self) -> int:
        return sum(self.parts_fen)

    def values(self) -> dict[str, object]:
        return {
            "division": self.division,
            "divisionLevel": self.division_level,
            "platform": self.platform,
            "units": self.units,
            "action": self.action,
            "site": self.site,
            "siteLevel": self.site_level,
            "provider": self.provider,
            "serversCny": _yuan(self.parts_fen[SERVERS]),
            "energyCny": _yuan(self.parts_fen[ENERGY]),
            "buildsCny": _yuan(self.parts_fen[BUILDS]),
            "totalCny": _yuan(self.total_fen),
            "aloneCny": _yuan(self.alone_fen),
            "savesCny": _yuan(self.alone_fen - self.total_fen),
        }


def _yuan(fen: int) -> str:
    """Exact yuan from fen, as a decimal string (no binary rounding)."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def showback(problem: Problem, plan: Plan) -> list[Row]:
    """One row per served demand, in division then platform order."""
    sites = {p.site: p for p in problem.pools}
    units = {d.name: d.units for d in problem.demands}
    rows = []
    for d in plan.decisions:
        if d.action not in ("reuse", "build"):
            continue
        pool = sites[d.site]
        rows.append(
            Row(
                d.division,
                level_of(d.division).value,
                d.platform,
                units[d.demand],
                d.action,
                d.site,
                pool.level.value,
                pool.provider,
                d.parts_fen,
                d.alone_fen,
            )
        )
    return sorted(rows, key=lambda r: (r.division, r.platform))


def to_json(rows: list[Row], plan: Plan) -> dict[str, object]:
    """The stable machine form (docs/planning.md): rows, totals by division, by level of
    the division and by provider, and the shared spare."""
    by: dict[str, dict[str, list[int]]] = {"division": {}, "level": {}, "provider": {}}
    for row in rows:
        for key, value in (
            ("division", row.division),
            ("level", row.division_level),
            ("provider", row.provider),
        ):
            acc = by[key].setdefault(value, [0, 0])
            acc[0] += row.total_fen
            acc[1] += row.alone_fen
    return {
        "apiVersion": "tongchou.io/v1",
        "kind": "Showback",
        "rows": [row.values() for row in rows],
        **{
            f"by{key.capitalize()}": {
                name: {"totalCny": _yuan(t), "aloneCny": _yuan(a)}
                for name, (t, a) in sorted(groups.items())
            }
            for key, groups in by.items()
        },
        "sharedSpareCny": _yuan(plan.spare_fen),
        "planTotalCny": _yuan(sum(r.total_fen for r in rows) + plan.spare_fen),
    }


def to_csv(rows: list[Row]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row.values())
    return out.getvalue()


def render(rows: list[Row], plan: Plan) -> str:
    """Per division: what it pays for the shared platforms and what its own would cost."""
    lines = [f"{'DIVISION':<10} {'LEVEL':<9} {'PLATFORM':<18} {'SITE':<18} {'PAYS':>14} "
             f"{'ALONE':>14}"]  # fmt: skip
    for r in rows:
        lines.append(
            f"{r.division:<10} {r.division_level:<9} {r.platform:<18} {r.site:<18} "
            f"{'¥' + _yuan(r.total_fen):>14} {'¥' + _yuan(r.alone_fen):>14}"
        )
    lines.append(f"shared spare (bought where nothing is served): ¥{_yuan(plan.spare_fen)}")
    return "\n".join(lines)
