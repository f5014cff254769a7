"""Interface labels in English and Chinese (`--lang zh`); data such as names stays as it is."""

from __future__ import annotations

import os
from collections.abc import Mapping

LABELS: dict[str, dict[str, str]] = {
    "en": {
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
        "help_views": "Overview, Nodes, Clusters, Sites, Workloads, Policies, Plan, Events, Audit",
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

        "plan_report": "report", "plan_resilience": "if a site is lost (N-1)",
        "plan_showback": "showback", "plan_pending": "submitted",
        "plan_submit_key": "u submits its {n} workloads to the hub",
        "plan_unsubmittable": "plan {id} cannot be submitted: {why}",
        "lost_domain": "If this is lost", "lost_demands": "Demands hit",
        "earlier_tenants": "Earlier tenants", "absorbed": "Rest absorbs",
        "shortfall": "Shortfall per level", "yes": "yes", "no": "no",
        "cores_word": "cores",
        "stranded": "{n} with no admissible cluster left", "pays": "Pays (shared)",
        "alone": "Building its own", "saves": "Saves",
        "shared_spare": "shared spare (bought where nothing is served)",
        "submit_plan_question": "Submit the {n} workloads of plan {id} to the hub? The hub places "
                                "them on the live fleet; what awaits the servers the plan buys "
                                "stays pending.\n\ny submit · n or Esc keep",
        "plan_submitted": "plan {id}: {n} workloads submitted, {pending} replicas pending",
        "help_plan_view": "plan: report → resilience (N-1) → showback → submitted workloads",
        "help_submit_plan": "submit the plan's workloads to the hub (planner role; audited)",
        "cmd_plan_view": "next view of the plan", "cmd_submit_plan": "submit the plan",
        "lost_list": "Demands hit: {list}", "moved_list": "Absorbed: {list}",
        "stranded_list": "No admissible cluster left: {list}",
        "tenants_list": "Earlier tenants: {list}", "and_more": "and {n} more",
    },
    "zh": {
        "overview": "总览", "nodes": "节点", "workloads": "工作负载", "events": "事件",
        "level": "层级", "ready": "就绪", "stale": "超时", "lost": "失联", "cpu": "CPU",
        "memory": "内存", "node": "节点", "state": "状态", "division": "行政区划",
        "cluster": "集群", "arch": "架构", "chip": "芯片", "cores": "核数",
        "cpu_used": "CPU 使用", "filter": "筛选：文本、标签=值 或 状态",
        "loading": "正在加载资源池…",
        "disconnected": "无法连接中枢 {address}，正在重连…", "workload": "工作负载",
        "all_divisions": "全部行政区",
        "placed": "已部署", "pending": "待部署", "where": "位置 / 原因",
        "submit": "要提交的工作负载文件（YAML）", "quit": "退出", "help": "帮助",
        "language": "English",
        "fleet": "{nodes:,} 个节点 · {clusters:,} 个集群 · 每秒 {rate:,.0f} 次上报",
        "total": "合计", "explain": "调度说明", "time": "时间", "kind": "类型",
        "subject": "对象", "message": "内容", "clusters": "集群", "plan": "统筹规划",
        "site": "站点", "provider": "云服务商", "mlps": "等保", "archs": "架构",
        "plan_path": "规划文件目录（平台、需求、服务器型号、规划策略）",
        "solving": "求解中…", "planned": "规划完成。", "sites": "站点",
        "compute_hub": "算力枢纽", "allocated": "已分配", "pue": "PUE", "slots": "空余机位",
        "policies": "调度策略", "policy": "策略", "form": "类型", "weight": "权重",
        "matched": "适用", "removed": "排除集群 平均/最多", "examples": "示例", "origin": "来源",
        "check_path": "要检查的调度策略文件或目录",
        "policies_loaded": "已加载 {policies} 条策略 · 对 {workloads} 个工作负载、"
                           "{clusters} 个集群的影响（逐条单独计算）",
        "checked": "已用中枢的工作负载和集群检查 {source}：",
        "show": "查看", "show_help": "切换到此视图", "alerts": "最新告警",
        "no_alerts": "无 — 所有节点正常上报，无待部署副本",
        "help_views": "总览、节点、集群、站点、工作负载、调度策略、统筹规划、事件、审计",
        "help_help": "本帮助", "help_quit": "退出",
        "help_filter": "筛选节点：文本、标签=值、状态或行政区划；回车保留筛选并交还按键，Esc 清除",
        "help_submit": "提交工作负载 YAML 文件（可含多个文档）",
        "help_explain": "查看所选工作负载的调度说明",
        "help_run_plan": "对规划文件目录运行统筹规划",
        "help_export_plan": "导出规划结果 JSON",
        "help_check_policies": "用中枢的工作负载检查调度策略文件",
        "help_language": "English ↔ 中文",
        "help_leave": "离开当前输入框或对话框；关闭节点详情",
        "help_move": "表格：移动光标（行、页、首行、末行）",
        "help_select": "打开：节点详情；行政区划（树）、集群或站点下的节点",
        "help_sort": "表格：按下一列 / 上一列排序；反向",
        "help_focus": "切换焦点：筛选或路径输入框、表格、详情",
        "help_palette": "命令面板：按名称查找所有视图和操作",
        "key_help": "帮助", "key_quit": "退出", "key_filter": "筛选", "key_submit": "提交",
        "key_explain": "说明", "key_run_plan": "规划", "key_language": "English",
        "exported": "已写入 {path}", "export_failed": "无法写入 {path}：{why}",
        "no_plan": "还没有规划结果：按 r 运行规划",
        "given_replicas": "{n} 个集群部署了副本", "of_total": "共 {total}",
        "audit": "审计", "audit_seq": "序号", "audit_at": "时间（UTC）", "audit_actor": "操作人",
        "audit_role": "角色", "audit_action": "操作", "audit_object": "对象",
        "audit_outcome": "结果",
        "audit_note": "中枢审计日志：最新 {n:,} 条记录，哈希链接（tongchou audit verify 校验）",
        "audit_refused": "审计日志需要审计员角色：{why}",
        "delete_question": "删除工作负载 {name} 及其在所有集群上的部署？\n\ny 删除 · n 或 Esc 保留",
        "deleted": "已删除 {name}",
        "help_delete_workload": "删除所选工作负载（先确认；中枢检查角色并记入审计日志）",
        "scope_nodes": "{n:,} 个节点", "scope_workloads": "此处的工作负载：{list}",
        "scope_back": "Esc 返回",
        "paused": "⏸ 已暂停（按 z 继续）", "data_age": "数据已 {seconds:.0f} 秒未更新",
        "key_pause": "暂停", "help_pause": "暂停或继续实时刷新（数据照常接收）",
        "help_export_csv": "把当前表格导出为 CSV",
        "no_table": "此视图没有可导出的表格",
        "sys_theme": "主题", "sys_quit": "退出", "sys_keys": "按键",
        "sys_minimize": "还原", "sys_maximize": "最大化", "sys_screenshot": "截图",
        "sys_theme_help": "切换配色主题", "sys_quit_help": "退出控制台",
        "sys_keys_help": "显示或隐藏当前部件的按键", "sys_minimize_help": "还原部件大小",
        "sys_maximize_help": "最大化当前部件", "sys_screenshot_help": "保存屏幕的 SVG 截图",
        "cmd_filter": "筛选节点或事件", "cmd_submit": "提交工作负载",
        "cmd_explain": "说明所选工作负载", "cmd_run_plan": "运行统筹规划",
        "cmd_export_plan": "导出规划结果", "cmd_check_policies": "检查调度策略",
        "cmd_language": "中文 / English", "now": "现在",
        "more_pending": "… 另有 {n} 个工作负载有待部署副本",
        "event_filter": "筛选：类型、节点、工作负载或文本；输入 告警 只看告警",
        "alert_word": "告警", "rows_shown": "显示 {shown:,} / {total:,} 行",
        "no_match": "没有匹配“{query}”的行 — 按 Esc 清除筛选",
        "no_workloads": "没有可说明的工作负载：按 s 提交",
        "eligible_zero": "{n} 个符合条件的集群未分到副本", "eligible_none": "无需",
        "clusters_listed": "以上列出了全部 {n} 个集群",
        "placed_word": "已部署", "submitted": "{path}：已提交 {done}/{total} 个文档",

        "plan_report": "规划报告", "plan_resilience": "站点失效影响（N-1）",
        "plan_showback": "费用分摊", "plan_pending": "已提交",
        "plan_submit_key": "按 u 把其 {n} 个工作负载提交到中枢",
        "plan_unsubmittable": "规划 {id} 无法提交：{why}",
        "lost_domain": "若失去", "lost_demands": "受影响需求", "earlier_tenants": "既有租户",
        "absorbed": "其余可承接", "shortfall": "各层级缺口", "yes": "是", "no": "否",
        "cores_word": "核",
        "stranded": "{n} 个已无合规集群", "pays": "分摊费用", "alone": "自建费用",
        "saves": "节省", "shared_spare": "共享备用（购置于无服务需求处）",
        "submit_plan_question": "把规划 {id} 的 {n} 个工作负载提交到中枢？中枢在现有资源池上部署；"
                                "等待规划新购服务器的副本保持待部署。\n\ny 提交 · n 或 Esc 取消",
        "plan_submitted": "规划 {id}：已提交 {n} 个工作负载，{pending} 个副本待部署",
        "help_plan_view": "统筹规划：报告 → 站点失效影响（N-1）→ 费用分摊 → 已提交的工作负载",
        "help_submit_plan": "把规划的工作负载提交到中枢（规划员角色；记入审计日志）",
        "cmd_plan_view": "规划的下一个视图", "cmd_submit_plan": "提交规划",
        "lost_list": "受影响需求：{list}", "moved_list": "已承接：{list}",
        "stranded_list": "已无合规集群：{list}", "tenants_list": "既有租户：{list}",
        "and_more": "等另 {n} 个",
    },
}  # fmt: skip

LEVELS = {
    "en": {"province": "province", "city": "city", "county": "county", "township": "township"},
    "zh": {"province": "省级", "city": "市级", "county": "县级", "township": "乡镇"},
}
STATES = {  # stale: reports overdue (超时); lost: silent past --lost-after (失联)
    "en": {"ready": "ready", "stale": "stale", "lost": "lost"},
    "zh": {"ready": "就绪", "stale": "超时", "lost": "失联"},
}


def default_lang(environ: Mapping[str, str] | None = None) -> str:
    """`zh` when the locale asks for Chinese (LANGUAGE, LC_ALL, LC_MESSAGES, LANG, as
    gettext reads them), else `en`."""
    env = os.environ if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "zh" if value.split(":")[0].lower().startswith("zh") else "en"
    return "en"


def text(lang: str, key: str, default: str | None = None, **values: object) -> str:
    """A label in `lang`, falling back to English (then to `default` when given)."""
    label = LABELS.get(lang, LABELS["en"]).get(key) or LABELS["en"].get(key)
    if label is None:
        if default is None:
            raise KeyError(key)
        return default
    return label.format(**values) if values else label


STATE_WORDS = {word.lower(): state for names in STATES.values() for state, word in names.items()}
"""A state as typed in a filter, in either language: `stale`, `超时`, `lost`, `失联`…"""

KINDS = {
    "en": {},
    "zh": {
        "registered": "注册", "relabelled": "标签变更", "ready": "恢复上报", "stale": "超时",
        "lost": "失联", "failover": "故障转移", "recovered": "已恢复", "deleted": "已删除",
        "placement": "部署", "unavailable": "不可用",
    },
}  # fmt: skip
"""Event kinds as shown; English shows the hub's own words."""
