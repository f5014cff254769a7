"""The plan's report as text, in English or Chinese, from the plan's JSON form (the one
`tongchou plan -o json` prints and the hub sends), so the CLI and the console's Plan view
show the same table. The planner says its reasons in English; their shapes (context
`plan-reason`) and the table's words (context `plan:<key>`) are in the gettext catalogs."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from tongchou.i18n import SOURCE, translate_composed, translated

_LEVELS = ("national", "province", "city", "county", "township")
_CLUSTER = ("{n} cluster", "{n} clusters")

REASONS: tuple[str, ...] = (
    # the reasons of a decision (console/planner/report.py)
    "inside residency {division}",
    "est. {ms} ms",
    "est. {ms} ms ≤ {bound} ms",
    "standby of {demand} at another site",
    "no existing instance",
    "no existing instance admissible ({parts})",
    "{site} refused by policy {policies}",
    "{site} beyond {ms} ms",
    "{site} not admissible",
    "equal cost",
    "nearer than {where} ({ms} ms)",
    "{money} cheaper than reusing {where}",
    "{money} cheaper than building at {where}",
    "cheaper across the plan than reusing {where}",
    "cheaper across the plan than building at {where}",
    "no capacity or free slots left at any admissible cluster",
    # why a demand has no option at all (console/planner/problem.py)
    "no cluster in the fleet",
    "no site within {ms} ms passes the rules (nearest that does: {site} {near} ms)",
    "no cluster passes the rules: {parts}",
    *(f"{c} refused by policy {{policy}}" for c in _CLUSTER),
    *(f"{c} below {level} level with no instance" for c in _CLUSTER for level in _LEVELS),
    "no second site passes the rules for a standby (redundancy: site)",
)
"""The shapes of the planner's reasons, `{field}`s where values go. A test plans the sample
and fails on a reason no shape (or no Chinese) covers."""

WORDS: dict[str, str] = {
    "summary": "{n} demands: {reuse} reuse, {build} build, {infeasible} infeasible, "
    "{unserved} unserved",
    "demand": "DEMAND",
    "division": "DIVISION",
    "decision": "DECISION",
    "reuse": "reuse",
    "build": "build",
    "infeasible": "infeasible",
    "unserved": "unserved",
    "decided": "{action} {instance}: {reason}, saves {saves}",
    "undecided": "{action}: {reason}",
    "purchases": "PURCHASES",
    "no_purchases": "none: existing free capacity covers the plan",
    "bought": "{servers} servers  {cost} (with energy)",
    "cost": "COST",
    "cost_line": "servers {servers} + energy {energy} + new instances {builds} = {total}",
    "baseline": "BASELINE",
    "baseline_line": "greedy first-fit-decreasing plan: {total}",
    "alone": "ALONE",
    "alone_line": "every locality building its own: {total}; this plan saves {saves}",
    "utilisation": "UTILISATION (CPU allocated ÷ capacity)",
    "solver": "SOLVER",
    "solver_line": "HiGHS: {status} ({proven}); objective {objective}, lower bound {bound}, "
    "gap {gap}, {seconds}s",
    "proven": "proven optimal",
    "not_proven": "not proven optimal",
    "unknown": "unknown",
    "optimal": "optimal",
    "time limit": "time limit",
    "interrupted": "interrupted",
    "gap reached": "gap reached",
    **{f"level:{level}": level for level in _LEVELS},
}
"""The report's own words and lines, by key."""

HEADING = 11
"""Columns of a line's heading (COST, BASELINE…) with its space."""


def sources() -> list[tuple[str, str]]:
    """(context, English) of every message of the plan's report: what the catalogs translate."""
    return [*(("plan-reason", r) for r in REASONS), *((f"plan:{k}", v) for k, v in WORDS.items())]


def word(lang: str, key: str, **values: object) -> str:
    """One of the report's words or lines in `lang` (English where the catalog has none)."""
    english = WORDS[key]
    found = translated(lang, f"plan:{key}", english) or english
    return found.format(**values) if values else found


def reason_text(lang: str, reason: str) -> str:
    """A planner's reason in `lang`: its parts (", " outside brackets) shape by shape."""
    if lang == SOURCE or not reason:
        return reason
    parts = [translate_composed(lang, part, "plan-reason") for part in _parts(reason)]
    return "，".join(parts)


def _parts(reason: str) -> list[str]:
    out, depth, start = [], 0, 0
    for i, ch in enumerate(reason):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0 and reason.startswith(", ", i):
            out.append(reason[start:i])
            start = i + 2
    out.append(reason[start:])
    return [p for p in out if p]


def money(value: float) -> str:
    """An amount in yuan in one unit for every size, so a report's figures compare at a
    glance: ¥4.29M, ¥338.00M, ¥1,204.50M; below ten thousand yuan, whole yuan."""
    if abs(value) >= 1e4:
        return f"¥{value / 1e6:,.2f}M"
    return f"¥{value:,.0f}"


def width(text: str) -> int:
    """Terminal columns of `text` (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, columns: int) -> str:
    return text + " " * max(columns - width(text), 0)


def _money(value: object) -> str:
    return money(float(value)) if isinstance(value, int | float) else "—"


def render(plan: Mapping[str, Any], lang: str = SOURCE) -> str:
    """The plan's report (its JSON form, docs/planning.md) as a text table in `lang`."""
    decisions = plan["decisions"]
    count = {a: sum(1 for d in decisions if d["action"] == a) for a in
             ("reuse", "build", "infeasible", "unserved")}  # fmt: skip
    lines = [
        word(lang, "summary", n=len(decisions), **count),
        "",
        f"{pad(word(lang, 'demand'), 34)} {pad(word(lang, 'division'), 9)} "
        + word(lang, "decision"),
    ]
    for d in decisions:
        action = word(lang, d["action"]) if d["action"] in count else d["action"]
        reason = reason_text(lang, d["reason"])
        if d["action"] in ("reuse", "build"):
            saves = money(d["savesCny"])
            what = word(lang, "decided", action=action, instance=d["instance"], reason=reason,
                        saves=saves)  # fmt: skip
        else:
            what = word(lang, "undecided", action=action, reason=reason)
        lines.append(f"{d['demand']:<34} {d['division']:<9} {what}")
    lines += ["", word(lang, "purchases")]
    if not plan["purchases"]:
        lines.append("  " + word(lang, "no_purchases"))
    for p in plan["purchases"]:
        where = f"{p['site']}/{p['cluster']}"
        bought = word(lang, "bought", servers=f"{p['servers']:>4}", cost=money(p["costCny"]))
        lines.append(f"  {where:<34} {p['sku']:<18} {bought}")
    lines += ["", *_totals(plan, lang)]
    return "\n".join(lines)


def _totals(plan: Mapping[str, Any], lang: str) -> list[str]:
    """The report's closing lines: cost, baseline, building alone, utilisation, the solver."""
    c = plan["cost"]
    alone, saved = plan["everyoneBuildsCny"], plan["savingsCny"]
    share = f" ({saved / alone:.0%})" if alone else ""
    utilisation = (", " if lang == SOURCE else "，").join(
        f"{word(lang, 'level:' + lv) if 'level:' + lv in WORDS else lv} "
        f"{u['before']:.0%} → {u['after']:.0%}"
        for lv, u in plan["utilization"].items()
    )
    s = plan["solver"]
    status = word(lang, s["status"]) if s["status"] in WORDS else s["status"]
    gap = f"{s['gap']:.2%}" if s["gap"] is not None else word(lang, "unknown")
    solver = word(
        lang, "solver_line", status=status,
        proven=word(lang, "proven" if s["provenOptimal"] else "not_proven"),
        objective=_money(s["objectiveCny"]), bound=_money(s["lowerBoundCny"]), gap=gap,
        seconds=f"{s['seconds']:.1f}",
    )  # fmt: skip
    return [
        pad(word(lang, "cost"), HEADING)
        + word(
            lang,
            "cost_line",
            servers=money(c["serversCny"]),
            energy=money(c["energyCny"]),
            builds=money(c["buildsCny"]),
            total=money(c["totalCny"]),
        ),
        pad(word(lang, "baseline"), HEADING)
        + word(lang, "baseline_line", total=money(plan["baselineCny"])),
        pad(word(lang, "alone"), HEADING)
        + word(lang, "alone_line", total=money(alone), saves=money(saved))
        + share,
        f"{word(lang, 'utilisation')} {utilisation}",
        pad(word(lang, "solver"), HEADING) + solver,
    ]
