"""Interface labels: English here (the source), Chinese from the gettext catalog
(`tongchou/locale/zh/LC_MESSAGES/tongchou.po`, each label's key as its context; `./dev i18n`
adds new labels to it and compiles it). Data such as names stays as it is."""

from __future__ import annotations

from collections.abc import Mapping

from tongchou.i18n import default_lang, translate_composed, translated

__all__ = [
    "KINDS", "LABELS", "LEVELS", "STATES", "default_lang", "reason_text", "sources", "text",
]  # fmt: skip

EN: dict[str, str] = {
    "overview": "Overview", "nodes": "Nodes", "workloads": "Workloads", "events": "Events",
    "level": "Level", "ready": "Ready", "stale": "Stale", "lost": "Lost", "cpu": "CPU",
    "memory": "Memory", "node": "Node", "state": "State", "division": "Division",
    "cluster": "Cluster", "arch": "Arch", "chip": "Chip", "cores": "Cores",
    "cpu_used": "CPU used", "filter": "filter: text, label=value or state",
    "loading": "Loading the fleet…",
    "disconnected": "Hub {address} unreachable — reconnecting…", "workload": "Workload",
    "all_divisions": "all divisions",
    "placed": "Placed", "pending": "Pending", "where": "Where / why",
    "submit": "Workload file to submit (YAML)", "quit": "Quit", "help": "Help",
    "language": "中文",
    "fleet": "{nodes:,} nodes · {clusters:,} clusters · {rate:,.0f} reports/s",
    "total": "total", "explain": "Explanation", "time": "Time", "kind": "Kind",
    "subject": "Subject", "message": "Message", "clusters": "Clusters", "plan": "Plan",
    "site": "Site", "provider": "Provider", "mlps": "MLPS", "archs": "Archs",
    "plan_path": "Folder of Platform, Demand, ServerSku, PlanningPolicy documents",
    "solving": "Solving…", "planned": "Planned.", "sites": "Sites",
    "compute_hub": "Hub (东数西算)", "allocated": "Allocated", "pue": "PUE",
    "slots": "Free slots", "policies": "Policies", "policy": "Policy", "form": "Form",
    "weight": "Weight", "matched": "Binds", "removed": "Removes avg / max", "examples": "e.g.",
    "origin": "From", "check_path": "PlacementPolicy file or folder to check",
    "policies_loaded": "{policies} policies loaded · effect on {workloads} workloads "
                       "and {clusters} clusters, each policy on its own",
    "checked": "Checked {source} against the hub's workloads and clusters:",
    "show": "show", "show_help": "switch to this view", "alerts": "Newest alerts",
    "no_alerts": "none — every node reporting, nothing pending",
    "help_views": "Overview, Nodes, Clusters, Sites, Workloads, Policies, Plan, Events, Audit, "
    "Situation (board), History",
    "help_help": "this help", "help_quit": "quit",
    "help_filter": "filter nodes: text, label=value, a state or a division; Enter keeps "
                   "it and gives the keys back, Escape clears it",
    "help_submit": "submit a Workload YAML file (one or many documents)",
    "help_explain": "explain the selected workload",
    "help_run_plan": "run the planner on a folder of planning documents",
    "help_export_plan": "export the plan as JSON",
    "help_check_policies": "check a PlacementPolicy file against the hub's workloads",
    "help_language": "English ↔ 中文",
    "help_leave": "leave the input or dialog you are in; close the node's detail",
    "help_move": "table: move the cursor (line, page, first, last)",
    "help_select": "open: a node's detail; the nodes of a division (tree), cluster or site",
    "help_sort": "table: sort by the next / previous column; reverse",
    "help_focus": "move the focus: filter or path box, table, detail",
    "help_palette": "command palette: every view and action by name",
    "key_help": "Help", "key_quit": "Quit", "key_filter": "Filter", "key_submit": "Submit",
    "key_explain": "Explain", "key_run_plan": "Run plan", "key_language": "中文",
    "exported": "written to {path}", "export_failed": "cannot write {path}: {why}",
    "no_plan": "no plan yet: press r to run one",
    "given_replicas": "{n} clusters given replicas", "of_total": "of {total}",
    "audit": "Audit", "audit_seq": "Seq", "audit_at": "Time (UTC)", "audit_actor": "Actor",
    "audit_role": "Role", "audit_action": "Action", "audit_object": "Object",
    "audit_outcome": "Outcome",
    "audit_note": "the hub's audit log: the newest {n:,} records, hash-chained "
                  "(tongchou audit verify checks the chain)",
    "audit_refused": "the audit log needs an auditor role: {why}",
    "delete_question": "Delete workload {name} and its placements on every cluster?\n\n"
                       "y delete · n or Esc keep it",
    "deleted": "deleted {name}", "help_delete_workload": "delete the selected workload "
    "(asks first; the hub checks your role and audits it)",
    "scope_nodes": "{n:,} nodes", "scope_workloads": "workloads here: {list}",
    "scope_back": "Esc back",
    "paused": "⏸ paused (z resumes)", "data_age": "data {seconds:.0f}s old",
    "key_pause": "Pause", "help_pause": "pause or resume live updates (data keeps arriving)",
    "help_export_csv": "export the table on screen as CSV",
    "no_table": "this view has no table to export",
    "sys_theme": "Theme", "sys_quit": "Quit", "sys_keys": "Keys",
    "sys_minimize": "Minimize", "sys_maximize": "Maximize", "sys_screenshot": "Screenshot",
    "sys_theme_help": "change the colour theme", "sys_quit_help": "quit the console",
    "sys_keys_help": "show or hide the keys of the focused widget",
    "sys_minimize_help": "restore the widget to its size",
    "sys_maximize_help": "maximize the focused widget",
    "sys_screenshot_help": "save an SVG screenshot of the screen",
    "cmd_filter": "filter nodes or events", "cmd_submit": "submit a workload",
    "cmd_explain": "explain the selected workload", "cmd_run_plan": "run the planner",
    "cmd_export_plan": "export the plan", "cmd_check_policies": "check policies",
    "cmd_language": "中文 / English", "now": "now",
    "more_pending": "… {n} more workloads with replicas pending",
    "event_filter": "filter: kind, node, workload or text; alerts for alerts only",
    "alert_word": "alerts", "rows_shown": "{shown:,} of {total:,} rows",
    "no_match": "no row matches “{query}” — Escape clears the filter",
    "no_workloads": "no workload to explain: press s to submit one",
    "eligible_zero": "{n} eligible clusters given none", "eligible_none": "not needed",
    "clusters_listed": "every one of the {n} clusters is listed above",
    "placed_word": "placed", "submitted": "{path}: {done} of {total} documents submitted",
    "workload_title": "Workload {name}: its stored document (read-only)",
    "scale_label": "Replicas", "scale_hint": "Enter scales (the hub checks your role and "
    "audits it) · Esc closes", "scale_not_allowed": "your role may not scale · Esc closes",
    "scale_bad": "“{value}” is not a replica count: a whole number ≥ 0",
    "scaled": "{name} scaled to {replicas}: {placed} placed, {pending} pending",
    "help_workload": "the selected workload: its YAML, and scale it (replicas)",
    "cmd_workload": "view YAML / scale the selected workload",
    "help_recall_filter": "saved filters of the Nodes (on Events: the Events) view: "
    "pick one to apply it", "help_save_filter": "save the current filter under a name",
    "cmd_save_filter": "save the current filter",
    "cmd_saved_filter": "{view} filter: {name}",
    "save_filter_as": "Save the filter “{query}” as:", "filter_name": "a name, e.g. 天河 lost",
    "saved_filters": "Saved filters of {view} (Enter applies, Esc closes)",
    "filter_saved": "filter “{name}” saved in {path}",
    "no_filter": "no filter on {view} to save: press / and type one",
    "no_saved_filters": "no saved filters for {view}: F saves the current one",
    "filters_unreadable": "saved filters not read: {why}",
    "history": "History",
    "situation": "Situation",
    "util_level": "CPU utilisation by level",
    "util_division": "CPU utilisation by division",
    "util_site": "CPU utilisation by site",
    "util_provider": "CPU utilisation by provider",
    "idle_level": "Idle CPU cores by level (资源闲置)",
    "reports_rate": "Reports per second",
    "pending_replicas": "Pending replicas",
    "failovers": "Failovers (per hour)",
    "history_keys": "g / G chart · 1 1 h · 2 24 h · 3 7 d · 4 30 d",
    "history_off": "No history: start the console with --prometheus URL "
    "(the Prometheus that scrapes the hub)",
    "history_error": "Prometheus: {why}",
    "history_empty": "no data in this range yet",
    "history_loading": "asking {url}…",
    "history_from": "from {url} · step {step}",
    "sit_levels": "Fleet by level",
    "sit_idle": "Idle CPU",
    "sit_trend": "Idle trend 24 h",
    "sit_xinchuang": "信创 share of cores",
    "sit_mlps": "MLPS (等保) compliance",
    "sit_workloads": "Workloads",
    "sit_clusters": "Clusters",
    "sit_below": "Below level",
    "sit_none_below": "none: every replica on a cluster at or above its level",
    "sit_below_row": "{workload} (等保 {need}) on {cluster} (等保 {has})",
    "sit_pending": "Top pending reasons",
    "sit_no_pending": "nothing pending",
    "sit_failovers": "Recent failovers",
    "sit_no_failovers": "none",
    "sit_mlps_level": "等保 {n}",
    "sit_cores": "{share} of {cores}",
    "help_chart": "history: the next / previous chart",
    "help_span": "history: 1 h, 24 h, 7 d or 30 d",
    "elsewhere": "outside your scope since connecting: {nodes:,} node changes and "
    "{events:,} events, counted by the hub and not shown",
    "plan_report": "report",
    "plan_resilience": "if a site is lost (N-1)",
    "plan_showback": "showback",
    "plan_pending": "submitted",
    "plan_submit_key": "u submits its {n} workloads to the hub",
    "plan_unsubmittable": "plan {id} cannot be submitted: {why}",
    "lost_domain": "If this is lost",
    "lost_demands": "Demands hit",
    "earlier_tenants": "Earlier tenants",
    "absorbed": "Rest absorbs",
    "shortfall": "Shortfall per level",
    "yes": "yes",
    "no": "no",
    "cores_word": "cores",
    "stranded": "{n} with no admissible cluster left",
    "pays": "Pays (shared)",
    "alone": "Building its own",
    "saves": "Saves",
    "shared_spare": "shared spare (bought where nothing is served)",
    "submit_plan_question": "Submit the {n} workloads of plan {id} to the hub? The hub places "
    "them on the live fleet; what awaits the servers the plan buys "
    "stays pending.\n\ny submit · n or Esc keep",
    "plan_submitted": "plan {id}: {n} workloads submitted, {pending} replicas pending",
    "help_plan_view": "plan: report → resilience (N-1) → showback → submitted workloads",
    "help_submit_plan": "submit the plan's workloads to the hub (planner role; audited)",
    "cmd_plan_view": "next view of the plan",
    "cmd_submit_plan": "submit the plan",
    "lost_list": "Demands hit: {list}",
    "moved_list": "Absorbed: {list}",
    "stranded_list": "No admissible cluster left: {list}",
    "tenants_list": "Earlier tenants: {list}",
    "and_more": "and {n} more",
    "sit_platforms": "Platforms",
    "sit_tenants": "Tenants",
    "sit_tenants_below_row": "{platform} (等保 {need}) at {site} (等保 {has})",
    "sit_tenants_of": "its tenants: {tenants}",
    "sit_tenants_elsewhere": "{n} outside the scope",
    "sit_no_catalog": "Platform tenants: the hub has no catalog (--catalog)",
    "sit_catalog_unserved": "Platform tenants: this hub does not serve them",
    "sit_none_tenants_below": "no tenant on a platform below its level",
    # the read-only mark in the title (console/tui/readonly.py)
    "read_only_mark": "read-only",
    "plan_gap": "gap",  # the solver's relative gap, in the Plan view's progress line
    # the national console (console/tui/national.py): its columns and words
    "nat_province": "province", "nat_name": "name", "nat_nodes": "nodes", "nat_cores": "cores",
    "nat_cpu": "cpu", "nat_idle_cores": "idle cores", "nat_xinchuang_cores": "信创 cores",
    "nat_memory": "memory", "nat_divisions": "divisions", "nat_summary_age": "summary age",
    "nat_division": "division", "nat_level": "level", "nat_platforms": "platforms (tenants)",
    "nat_stale": "stale", "nat_none": "no province has reported yet",
    "nat_back": "Esc: provinces",
}  # fmt: skip
"""Every label of the console in English, by key."""

EN_LEVELS = {"province": "province", "city": "city", "county": "county", "township": "township"}
EN_STATES = {"ready": "ready", "stale": "stale", "lost": "lost"}
# stale: reports overdue (超时); lost: silent past --lost-after (失联)
KIND_WORDS = (
    "registered", "relabelled", "ready", "stale", "lost", "failover", "recovered", "deleted",
    "placement", "unavailable",
)  # fmt: skip
"""Event kinds the hub sends; English shows the hub's own words."""


def sources() -> list[tuple[str, str]]:
    """(context, English) of every message the console shows: what the catalogs translate."""
    out = list(EN.items())
    out += [(f"level:{k}", v) for k, v in EN_LEVELS.items()]
    out += [(f"state:{k}", v) for k, v in EN_STATES.items()]
    out += [(f"kind:{k}", k) for k in KIND_WORDS]
    return out


def _catalog(lang: str, prefix: str, english: Mapping[str, str]) -> dict[str, str]:
    """The entries of `english` the catalog of `lang` translates (a missing one is absent)."""
    out = {}
    for key, message in english.items():
        found = translated(lang, f"{prefix}{key}", message)
        if found is not None:
            out[key] = found
    return out


LABELS: dict[str, dict[str, str]] = {"en": EN, "zh": _catalog("zh", "", EN)}
LEVELS = {"en": EN_LEVELS, "zh": _catalog("zh", "level:", EN_LEVELS)}
STATES = {"en": EN_STATES, "zh": _catalog("zh", "state:", EN_STATES)}
KINDS: dict[str, dict[str, str]] = {
    "en": {},
    "zh": _catalog("zh", "kind:", {k: k for k in KIND_WORDS}),
}


def text(lang: str, key: str, default: str | None = None, **values: object) -> str:
    """A label in `lang`, falling back to English (then to `default` when given)."""
    label = LABELS.get(lang, LABELS["en"]).get(key) or LABELS["en"].get(key)
    if label is None:
        if default is None:
            raise KeyError(key)
        return default
    return label.format(**values) if values else label


def reason_text(lang: str, reason: str) -> str:
    """A scheduler's reason (sent by the hub in English) in `lang`, shape by shape."""
    return translate_composed(lang, reason)


STATE_WORDS = {word.lower(): state for names in STATES.values() for state, word in names.items()}
"""A state as typed in a filter, in either language: `stale`, `超时`, `lost`, `失联`…"""
