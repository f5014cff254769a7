"""The gettext catalogs: in step with the English sources, compiled, complete in Chinese, and
what a translation fills in ({name}) the same as its English."""

from __future__ import annotations

import re
import subprocess
import sys

from babel.messages.pofile import read_po

from agent.cli import build_parser
from console.report.texts import sources as report_sources
from console.scheduler.reasons import sources as reason_sources
from console.tui.i18n import LABELS, sources, text
from tests.samples import ROOT
from tongchou import cli
from tongchou.argtext import help_sources
from tongchou.argtext import sources as argparse_sources
from tongchou.climsg import sources as cli_sources
from tongchou.i18n import LOCALE_DIR, default_lang, translated
from tongchou.opsmsg import sources as ops_sources
from tongchou.plantext import sources as plan_sources

PO = LOCALE_DIR / "zh" / "LC_MESSAGES" / "tongchou.po"


def test_the_catalogs_are_in_step_with_the_code_and_compiled() -> None:
    done = subprocess.run(
        [sys.executable, "scripts/i18n.py", "--check"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_every_message_has_a_chinese_translation_with_the_same_fields() -> None:
    with PO.open("rb") as f:
        catalog = read_po(f)
    untranslated, fuzzy, fields = [], [], []
    for message in catalog:
        if not message.id:
            continue
        if not message.string:
            untranslated.append(message.context)
        if message.fuzzy:
            fuzzy.append(message.context)
        english = sorted(re.findall(r"\{[^}]*\}", str(message.id)))
        chinese = sorted(re.findall(r"\{[^}]*\}", str(message.string)))
        if message.string and english != chinese:
            fields.append(f"{message.context}: {english} ≠ {chinese}")
    assert not untranslated, f"no Chinese for: {untranslated}"
    assert not fuzzy, f"translations to check (fuzzy): {fuzzy}"
    assert not fields, fields
    helps = {t for p in [*cli.parsers(), build_parser("en")] for t in help_sources(p)}
    every = [sources(), reason_sources(), plan_sources(), cli_sources(), ops_sources(),
             argparse_sources(), report_sources()]  # fmt: skip
    assert len([m for m in catalog if m.id]) == sum(map(len, every)) + len(helps)


def test_the_console_reads_its_chinese_from_the_compiled_catalog() -> None:
    assert translated("zh", "state:stale", "stale") == "超时"
    assert translated("zh", "no such context", "stale") is None
    assert text("zh", "scaled", name="a", replicas=2, placed=1, pending=1).startswith("a 已扩缩容")
    assert set(LABELS["zh"]) == set(LABELS["en"])


def test_the_language_follows_the_locale() -> None:
    assert default_lang({"LANG": "zh_CN.UTF-8"}) == "zh"
    assert default_lang({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}) == "en"
    assert default_lang({"LANGUAGE": "zh_TW:en"}) == "zh"
    assert default_lang({}) == "en"
