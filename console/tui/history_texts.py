"""Labels of the History and Situation (态势) views, in English and Chinese, added to the
console's catalog (`console.tui.i18n.LABELS`) when the views are imported."""

from __future__ import annotations

from console.tui.i18n import LABELS

HISTORY_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "history": "History", "situation": "Situation",
        "util_level": "CPU utilisation by level", "util_division": "CPU utilisation by division",
        "util_site": "CPU utilisation by site", "util_provider": "CPU utilisation by provider",
        "idle_level": "Idle CPU cores by level (资源闲置)", "reports_rate": "Reports per second",
        "pending_replicas": "Pending replicas", "failovers": "Failovers (per hour)",
        "history_keys": "g / G chart · 1 1 h · 2 24 h · 3 7 d · 4 30 d",
        "history_off": "No history: start the console with --prometheus URL "
                       "(the Prometheus that scrapes the hub)",
        "history_error": "Prometheus: {why}", "history_empty": "no data in this range yet",
        "history_loading": "asking {url}…", "history_from": "from {url} · step {step}",
        "sit_levels": "Fleet by level", "sit_idle": "Idle CPU", "sit_trend": "Idle trend 24 h",
        "sit_xinchuang": "信创 share of cores", "sit_mlps": "MLPS (等保) compliance",
        "sit_workloads": "Workloads", "sit_clusters": "Clusters", "sit_below": "Below level",
        "sit_none_below": "none: every replica on a cluster at or above its level",
        "sit_below_row": "{workload} (等保 {need}) on {cluster} (等保 {has})",
        "sit_pending": "Top pending reasons", "sit_no_pending": "nothing pending",
        "sit_failovers": "Recent failovers", "sit_no_failovers": "none",
        "sit_mlps_level": "等保 {n}",
        "sit_cores": "{share} of {cores}",
        "help_chart": "history: the next / previous chart",
        "help_span": "history: 1 h, 24 h, 7 d or 30 d",
    },
    "zh": {
        "history": "历史", "situation": "态势",
        "util_level": "各层级 CPU 利用率", "util_division": "各行政区 CPU 利用率",
        "util_site": "各站点 CPU 利用率", "util_provider": "各云厂商 CPU 利用率",
        "idle_level": "各层级闲置 CPU 核数(资源闲置)", "reports_rate": "每秒上报数",
        "pending_replicas": "待部署副本", "failovers": "故障转移(每小时)",
        "history_keys": "g / G 切换图表 · 1 1 小时 · 2 24 小时 · 3 7 天 · 4 30 天",
        "history_off": "无历史数据:请以 --prometheus URL 启动控制台(采集中枢的 Prometheus)",
        "history_error": "Prometheus:{why}", "history_empty": "此时间范围内暂无数据",
        "history_loading": "正在查询 {url}…", "history_from": "来源 {url} · 步长 {step}",
        "sit_levels": "各层级资源状态", "sit_idle": "闲置 CPU", "sit_trend": "24 小时闲置趋势",
        "sit_xinchuang": "信创核数占比", "sit_mlps": "等保合规",
        "sit_workloads": "业务系统", "sit_clusters": "集群", "sit_below": "低于等级",
        "sit_none_below": "无:所有副本均部署在不低于其等保等级的集群上",
        "sit_below_row": "{workload}(等保 {need})部署于 {cluster}(等保 {has})",
        "sit_pending": "主要待部署原因", "sit_no_pending": "无待部署",
        "sit_failovers": "最近故障转移", "sit_no_failovers": "无",
        "sit_mlps_level": "等保{n}级",
        "sit_cores": "{share} / {cores} 核",
        "help_chart": "历史:下一个 / 上一个图表",
        "help_span": "历史:1 小时、24 小时、7 天或 30 天",
    },
}  # fmt: skip

for _lang, _labels in HISTORY_LABELS.items():
    for _key, _label in _labels.items():
        LABELS[_lang].setdefault(_key, _label)
