"""The monthly report's words come from the gettext catalog: every one has Chinese (the
report's default) with the same fields, and the words read as they did before the catalog."""

from __future__ import annotations

import re

from console.report.texts import EN, millions, say
from tongchou.i18n import translated

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_every_word_of_the_report_has_chinese_with_the_same_fields() -> None:
    missing = [
        key for key, english in EN.items() if translated("zh", f"report:{key}", english) is None
    ]
    assert not missing, f"no Chinese for: {missing}"
    for key, english in EN.items():
        chinese = translated("zh", f"report:{key}", english) or ""
        assert sorted(re.findall(r"\{[^}]*\}", english)) == sorted(
            re.findall(r"\{[^}]*\}", chinese)
        )
        assert CHINESE.search(chinese), key


def test_the_report_reads_in_both_languages() -> None:
    assert say("zh", "title") == "政务云统筹月度报告"
    assert say("en", "title") == "Government cloud monthly report"
    assert say("zh", "month", year=2026, month_name=say("zh", "month_11")) == "2026年11月"
    assert say("en", "month", year=2026, month_name=say("en", "month_11")) == "November 2026"
    assert millions("zh", 25_200_000) == "25.20 百万元" and millions("en", 25_200_000) == "¥25.20M"
    assert (
        say("zh", "plan_decisions", reuse=3, build=1, unserved=0)
        == "复用 3 项，新建 1 项，未满足 0 项"
    )
