"""Every command's help (options, subcommands, descriptions, group titles) in Chinese with
--lang zh or a Chinese locale; a help text the catalog does not translate fails here."""

from __future__ import annotations

import re
import subprocess
import sys

from agent.cli import build_parser
from tests.samples import ROOT, tongchou
from tongchou import cli
from tongchou.argtext import HELP_CONTEXT, PREFIX, help_sources, in_language
from tongchou.i18n import translated

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_every_help_text_of_every_command_has_chinese() -> None:
    parsers = [*cli.parsers(), build_parser("en")]
    texts = {text for parser in parsers for _context, text in help_sources(parser)}
    assert len(texts) > 200
    missing = sorted(t for t in texts if translated("zh", HELP_CONTEXT, t) is None)
    assert not missing, f"no Chinese for these help texts: {missing}"
    for text in texts:
        chinese = translated("zh", HELP_CONTEXT, text) or ""
        assert CHINESE.search(chinese), text
        assert "%" not in chinese or "%" in text  # argparse formats help with %
        assert re.findall(r"\{\w+\}", text) == re.findall(r"\{\w+\}", chinese)


def test_a_translated_parser_keeps_no_english_help() -> None:
    with in_language("zh"):
        parser = build_parser("zh")
    helped = [action for action in parser._actions if action.help]
    assert len(helped) > 20
    for action in helped:
        assert CHINESE.search(action.help or ""), action.option_strings
    assert CHINESE.search(parser.description or "")


def test_the_installed_path_in_a_help_text_survives_translation() -> None:
    done = tongchou("--lang", "zh", "demo", "--help")
    assert done.returncode == 0, done.stderr
    flat = " ".join(done.stdout.split())
    assert f"资源池文件（默认 {PREFIX}/console/samples/guangdong）" in flat


def test_hub_help_in_chinese_under_a_chinese_locale() -> None:
    done = tongchou("hub", "--help", lang="zh_CN.UTF-8")
    assert done.returncode == 0, done.stderr
    flat = " ".join(done.stdout.split())
    assert "中枢的证书（tongchou ca issue）" in flat and "传输安全（除非指定" in flat
    english = tongchou("hub", "--help")
    assert "the hub's certificate (tongchou ca issue)" in " ".join(english.stdout.split())


def test_the_command_list_and_agent_flags_in_chinese() -> None:
    top = tongchou("--lang", "zh", "--help")
    assert "节点守护进程" in top.stdout and "显示程序版本号并退出" in top.stdout
    agent = subprocess.run(
        [sys.executable, "-c", "from agent.cli import main; main()", "--help"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={"LANG": "zh_CN.UTF-8", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert agent.returncode == 0, agent.stderr
    assert "集群的等保级别，1 到 4" in " ".join(agent.stdout.split())
