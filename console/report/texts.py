"""The monthly report's words: English here (the source), Chinese (the report's default) from
the gettext catalog, each word's key as its context (`report:<key>`); `./dev i18n` adds new
words to the catalog and compiles it."""

from __future__ import annotations

from tongchou.i18n import translated

EN: dict[str, str] = {
    "title": "Government cloud monthly report",
    "month": "{month_name} {year}",
    "made": "Made {at} (China Standard Time) · hub {hub}",
    "summary": "1. Summary",
    "utilization": "2. Utilisation and idle capacity",
    "history": "3. The month's trend",
    "savings": "4. Savings of the unified plan",
    "showback": "5. Showback per division",
    "compliance": "6. MLPS (等保) compliance",
    "source_prometheus": "Trend plots from Prometheus ({url}), {start} to {end}.",
    "source_hub": "No Prometheus given: the plots show the hub's state when the report was "
    "made, not the month's history (give --prometheus for it).",
    "nodes": "Nodes",
    "ready": "Ready",
    "stale": "Stale",
    "lost": "Lost",
    "cores": "Cores",
    "used": "Cores used",
    "idle": "Idle cores",
    "cpu_share": "CPU utilisation",
    "domestic_share": "信创 share (cores)",
    "level": "Level",
    "divisions": "Divisions",
    "sites": "Sites",
    "clusters": "Clusters",
    "total": "Total",
    "national": "national",
    "province": "province",
    "city": "city",
    "county": "county",
    "township": "township",
    "unknown": "unknown",
    "plot_utilization": "CPU utilisation and 信创 share by level (now)",
    "plot_idle": "Idle cores by level (now)",
    "plot_h_utilization": "CPU utilisation by level",
    "plot_h_idle": "Idle cores by level",
    "plot_h_pending": "Pending replicas",
    "plot_h_failovers": "Failovers (per day)",
    "no_history": "Prometheus has no data for this in the period.",
    "no_plan": "No plan has been run in the hub yet (the console's r key, or "
    "PlanService.RunPlan): nothing to report here.",
    "plans_refused": "The hub refused this user its plans (a role that may run plans is "
    "needed): {why}",
    "plan_of": "Plan #{id}, finished {at}",
    "plan_total": "Cost of the unified plan",
    "plan_alone": "Cost if every locality built its own",
    "plan_saves": "Savings",
    "plan_decisions": "{reuse} reuse, {build} build, {unserved} not served",
    "division": "Division",
    "demands": "Demands",
    "pays": "Pays (shared)",
    "alone": "Alone",
    "saves": "Saves",
    "mlps_level": "MLPS level",
    "replicas": "Replicas",
    "workloads": "Workloads",
    "workload": "Workload",
    "owner": "Owner",
    "placed": "Placed/desired",
    "lowest_level": "Lowest MLPS level hosting it",
    "own_level": "Its MLPS level",
    "below_level": "below its level",
    "pending_reason": "Why pending",
    "compliance_note": "The scheduling guardrails place a workload only on platforms whose "
    "MLPS level is at least its own; the table gives each workload's level and the lowest "
    "level of the platforms it runs on, those below their own level first and in red.",
    "none": "none",
    "yuan_m": "¥{value:,.2f}M",
    "page": "Page",
    "month_1": "January",
    "month_2": "February",
    "month_3": "March",
    "month_4": "April",
    "month_5": "May",
    "month_6": "June",
    "month_7": "July",
    "month_8": "August",
    "month_9": "September",
    "month_10": "October",
    "month_11": "November",
    "month_12": "December",
}
"""Every word of the report in English, by key (`month_1`…`month_12`: the months' names)."""


def sources() -> list[tuple[str, str]]:
    """(context, English) of every word of the report: what the catalogs translate."""
    return [(f"report:{key}", english) for key, english in EN.items()]


def say(lang: str, key: str, **values: object) -> str:
    """The word `key` in `lang` (English where the catalog has no translation)."""
    english = EN[key]
    found = translated(lang, f"report:{key}", english) or english
    return found.format(**values)


def millions(lang: str, yuan: float) -> str:
    return say(lang, "yuan_m", value=yuan / 1e6)
