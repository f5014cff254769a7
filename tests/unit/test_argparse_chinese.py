"""argparse's own words (usage, error, required arguments, invalid choice, headings) in
Chinese when the language is zh, from the catalog; every word of the running Python's argparse
an operator can see has a translation."""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

import pytest

from tests.samples import tongchou
from tongchou.argtext import (
    ARGPARSE_CONTEXT,
    ARGPARSE_MESSAGES,
    DEVELOPER_MESSAGES,
    in_language,
    lang_given,
    lang_in,
)
from tongchou.i18n import translated

PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[sr]")


def _argparse_messages() -> set[str]:
    """The messages argparse looks up with `_()` or `ngettext()` in this Python."""
    tree = ast.parse(Path(argparse.__file__).read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("_", "ngettext"):
            found |= {a.value for a in node.args if isinstance(a, ast.Constant)}
    return {m for m in found if isinstance(m, str)}


def test_every_word_argparse_shows_an_operator_has_chinese() -> None:
    unknown = _argparse_messages() - set(ARGPARSE_MESSAGES) - DEVELOPER_MESSAGES
    assert not unknown, f"argparse messages neither translated nor developer-only: {unknown}"
    for message in ARGPARSE_MESSAGES:
        chinese = translated("zh", ARGPARSE_CONTEXT, message)
        assert chinese, f"no Chinese for {message!r}"
        assert sorted(PLACEHOLDER.findall(message)) == sorted(PLACEHOLDER.findall(chinese))


def test_the_language_comes_from_the_command_line_else_the_locale() -> None:
    assert lang_given(["--lang", "zh", "schedule"]) == "zh"
    assert lang_given(["schedule", "--lang=zh", "--lang", "en"]) == "en"
    assert lang_given(["schedule", "--", "--lang", "zh"]) is None
    assert lang_given(["--lang", "fr"]) is None  # argparse reports it, in the locale's words
    assert lang_in([], {"LANG": "zh_CN.UTF-8"}) == "zh"
    assert lang_in(["--lang", "en"], {"LANG": "zh_CN.UTF-8"}) == "en"


def test_argparse_speaks_chinese_only_inside_the_block(capsys: pytest.CaptureFixture[str]) -> None:
    with in_language("zh"), pytest.raises(SystemExit):
        parser = argparse.ArgumentParser(prog="x")
        parser.add_argument("--n", required=True)
        parser.parse_args([])
    assert "x：错误：缺少以下必需参数：--n" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        argparse.ArgumentParser(prog="y").parse_args(["--what"])
    assert "y: error: unrecognized arguments: --what" in capsys.readouterr().err


def test_a_missing_argument_is_reported_in_chinese_and_exits_2() -> None:
    done = tongchou("--lang", "zh", "schedule")
    assert done.returncode == 2
    assert done.stderr.startswith("用法：tongchou schedule ")
    assert "tongchou schedule：错误：缺少以下必需参数：--fleet, --workloads" in done.stderr
    english = tongchou("schedule")
    assert english.returncode == 2 and "the following arguments are required" in english.stderr


def test_a_language_that_is_not_one_is_refused() -> None:
    done = tongchou("--lang", "fr", "schedule", lang="zh_CN.UTF-8")
    assert done.returncode == 2
    assert "参数 --lang：无效的选项值：'fr'（可选：'en', 'zh'）" in done.stderr


def test_the_locale_alone_makes_argparse_chinese() -> None:
    done = tongchou("schedule", "--fleet", "f", "--workloads", "w", "-o", "xml", lang="zh_CN.UTF-8")
    assert done.returncode == 2
    assert "参数 -o/--output：无效的选项值：'xml'（可选：'table', 'json', 'yaml'）" in done.stderr
    unknown = tongchou("ca", "init", "--dir", "d", "--bogus", lang="zh_CN.UTF-8")
    assert unknown.returncode == 2 and "无法识别的参数：--bogus" in unknown.stderr
    top = tongchou(lang="zh_CN.UTF-8")
    assert top.returncode == 2 and "tongchou：错误：缺少以下必需参数：COMMAND" in top.stderr


def test_help_headings_in_chinese() -> None:
    done = tongchou("--lang", "zh", "audit", "--help")
    assert done.returncode == 0, done.stderr
    assert "\n位置参数:\n" in done.stdout and "\n选项:\n" in done.stdout
    assert "显示此帮助信息并退出" in done.stdout
