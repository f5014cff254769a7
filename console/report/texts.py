"""The report's words, in Chinese (the default) and English."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "title": {"zh": "政务云统筹月度报告", "en": "Government cloud monthly report"},
    "month": {"zh": "{year}年{month}月", "en": "{month_name} {year}"},
    "made": {
        "zh": "生成时间 {at}（北京时间） · 枢纽 {hub}",
        "en": "Made {at} (China Standard Time) · hub {hub}",
    },
    "summary": {"zh": "一、总体情况", "en": "1. Summary"},
    "utilization": {"zh": "二、资源利用与闲置", "en": "2. Utilisation and idle capacity"},
    "history": {"zh": "三、本月趋势", "en": "3. The month's trend"},
    "savings": {"zh": "四、统筹规划节约", "en": "4. Savings of the unified plan"},
    "showback": {"zh": "五、各地区费用分摊", "en": "5. Showback per division"},
    "compliance": {"zh": "六、等保合规", "en": "6. MLPS (等保) compliance"},
    "source_prometheus": {
        "zh": "趋势图数据来自 Prometheus（{url}），{start} 至 {end}。",
        "en": "Trend plots from Prometheus ({url}), {start} to {end}.",
    },
    "source_hub": {
        "zh": "未指定 Prometheus：本报告的图表为枢纽在生成时的即时状态，不含本月历史趋势"
        "（加 --prometheus 可得）。",
        "en": "No Prometheus given: the plots show the hub's state when the report was made, "
        "not the month's history (give --prometheus for it).",
    },
    "nodes": {"zh": "节点", "en": "Nodes"},
    "ready": {"zh": "在线", "en": "Ready"},
    "stale": {"zh": "超时", "en": "Stale"},
    "lost": {"zh": "失联", "en": "Lost"},
    "cores": {"zh": "CPU 核", "en": "Cores"},
    "used": {"zh": "已用核", "en": "Cores used"},
    "idle": {"zh": "闲置核", "en": "Idle cores"},
    "cpu_share": {"zh": "CPU 利用率", "en": "CPU utilisation"},
    "domestic_share": {"zh": "信创占比（核）", "en": "信创 share (cores)"},
    "level": {"zh": "层级", "en": "Level"},
    "divisions": {"zh": "行政区", "en": "Divisions"},
    "sites": {"zh": "站点", "en": "Sites"},
    "clusters": {"zh": "集群", "en": "Clusters"},
    "total": {"zh": "合计", "en": "Total"},
    "national": {"zh": "国家级", "en": "national"},
    "province": {"zh": "省级", "en": "province"},
    "city": {"zh": "市级", "en": "city"},
    "county": {"zh": "县级", "en": "county"},
    "township": {"zh": "乡级", "en": "township"},
    "unknown": {"zh": "未知", "en": "unknown"},
    "plot_utilization": {
        "zh": "各层级 CPU 利用率与信创占比（当前）",
        "en": "CPU utilisation and 信创 share by level (now)",
    },
    "plot_idle": {"zh": "各层级闲置 CPU 核（当前）", "en": "Idle cores by level (now)"},
    "plot_h_utilization": {"zh": "各层级 CPU 利用率", "en": "CPU utilisation by level"},
    "plot_h_idle": {"zh": "各层级闲置 CPU 核", "en": "Idle cores by level"},
    "plot_h_pending": {"zh": "待调度副本数", "en": "Pending replicas"},
    "plot_h_failovers": {"zh": "故障切换（次/日）", "en": "Failovers (per day)"},
    "no_history": {
        "zh": "Prometheus 在此期间没有该数据。",
        "en": "Prometheus has no data for this in the period.",
    },
    "no_plan": {
        "zh": "枢纽中还没有运行过规划（控制台 r 键或 PlanService.RunPlan），本节无数据。",
        "en": "No plan has been run in the hub yet (the console's r key, or "
        "PlanService.RunPlan): nothing to report here.",
    },
    "plans_refused": {
        "zh": "枢纽拒绝向本用户提供规划（需要可运行规划的角色）：{why}",
        "en": "The hub refused this user its plans (a role that may run plans is needed): {why}",
    },
    "plan_of": {"zh": "规划 #{id}，完成于 {at}", "en": "Plan #{id}, finished {at}"},
    "plan_total": {"zh": "统筹方案总成本", "en": "Cost of the unified plan"},
    "plan_alone": {"zh": "各地自建总成本", "en": "Cost if every locality built its own"},
    "plan_saves": {"zh": "节约", "en": "Savings"},
    "plan_decisions": {
        "zh": "复用 {reuse} 项，新建 {build} 项，未满足 {unserved} 项",
        "en": "{reuse} reuse, {build} build, {unserved} not served",
    },
    "division": {"zh": "行政区", "en": "Division"},
    "demands": {"zh": "需求数", "en": "Demands"},
    "pays": {"zh": "统筹分摊", "en": "Pays (shared)"},
    "alone": {"zh": "自建成本", "en": "Alone"},
    "saves": {"zh": "节约", "en": "Saves"},
    "mlps_level": {"zh": "等保级别", "en": "MLPS level"},
    "replicas": {"zh": "副本", "en": "Replicas"},
    "workloads": {"zh": "业务系统", "en": "Workloads"},
    "workload": {"zh": "业务系统", "en": "Workload"},
    "owner": {"zh": "归属", "en": "Owner"},
    "placed": {"zh": "已部署/期望", "en": "Placed/desired"},
    "lowest_level": {"zh": "所在平台最低等保级别", "en": "Lowest MLPS level hosting it"},
    "own_level": {"zh": "自身等保级别", "en": "Its MLPS level"},
    "below_level": {"zh": "低于自身级别", "en": "below its level"},
    "pending_reason": {"zh": "待调度原因", "en": "Why pending"},
    "compliance_note": {
        "zh": "调度守则保证业务系统只部署在等保级别不低于其自身级别的平台上；"
        "下表列出每个业务系统自身的等保级别和所在平台的最低等保级别，低于自身级别的排在最前并标红。",
        "en": "The scheduling guardrails place a workload only on platforms whose MLPS level is "
        "at least its own; the table gives each workload's level and the lowest level of the "
        "platforms it runs on, those below their own level first and in red.",
    },
    "none": {"zh": "无", "en": "none"},
    "yuan_m": {"zh": "{value:,.2f} 百万元", "en": "¥{value:,.2f}M"},
    "page": {"zh": "第", "en": "Page"},
}

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def say(lang: str, key: str, **values: object) -> str:
    return TEXTS[key][lang].format(**values)


def millions(lang: str, yuan: float) -> str:
    return say(lang, "yuan_m", value=yuan / 1e6)
