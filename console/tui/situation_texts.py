"""Labels of the situation view's platform tenants (shared platforms per MLPS level, tenants on
a platform below their level), in English and Chinese, added to the console's catalog
(`console.tui.i18n.LABELS`) when the view is imported."""

from __future__ import annotations

from console.tui.i18n import LABELS

TENANT_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "sit_platforms": "Platforms",
        "sit_tenants": "Tenants",
        "sit_tenants_below_row": "{platform} (等保 {need}) at {site} (等保 {has})",
        "sit_tenants_of": "its tenants: {tenants}",
        "sit_tenants_elsewhere": "{n} outside the scope",
        "sit_no_catalog": "Platform tenants: the hub has no catalog (--catalog)",
        "sit_catalog_unserved": "Platform tenants: this hub does not serve them",
        "sit_none_tenants_below": "no tenant on a platform below its level",
    },
    "zh": {
        "sit_platforms": "共享平台",
        "sit_tenants": "租户",
        "sit_tenants_below_row": "{platform}(等保 {need})部署于 {site}(等保 {has})",
        "sit_tenants_of": "其租户:{tenants}",
        "sit_tenants_elsewhere": "范围外 {n} 个",
        "sit_no_catalog": "平台租户:中枢未加载共享平台目录(--catalog)",
        "sit_catalog_unserved": "平台租户:此中枢不提供共享平台目录",
        "sit_none_tenants_below": "无租户使用低于其等保等级的平台",
    },
}

for _lang, _labels in TENANT_LABELS.items():
    for _key, _label in _labels.items():
        LABELS[_lang].setdefault(_key, _label)
