"""The read-only mark and the national console's columns and words come from the gettext
catalog, complete in Chinese."""

from __future__ import annotations

import re

from console.tui.national import DIVISION_COLUMNS, PROVINCE_COLUMNS, TEXTS
from console.tui.readonly import MARK

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_the_read_only_mark_reads_in_both_languages() -> None:
    assert MARK == {"en": "read-only", "zh": "只读"}


def test_the_national_consoles_words_read_in_chinese() -> None:
    assert PROVINCE_COLUMNS["en"][0] == "province" and DIVISION_COLUMNS["en"][-1].startswith("plat")
    for english, chinese in (
        *zip(PROVINCE_COLUMNS["en"], PROVINCE_COLUMNS["zh"], strict=True),
        *zip(DIVISION_COLUMNS["en"], DIVISION_COLUMNS["zh"], strict=True),
        *zip(TEXTS["en"].values(), TEXTS["zh"].values(), strict=True),
    ):
        assert english.upper() == "CPU" or CHINESE.search(chinese), (english, chinese)
    assert TEXTS["zh"]["back"] == "Esc：返回省份"
