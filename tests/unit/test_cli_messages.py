"""The CLI's operator messages (validate, schedule, plan, policy check, workload) in Chinese
with --lang zh or a Chinese locale: every message has Chinese, and file, line, field paths and
values stay as they are."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from console.client.cli import format_status, print_explanation
from tests.samples import ROOT, SAMPLE, tongchou
from tongchou.climsg import MESSAGES, say
from tongchou.i18n import translated
from tongchou.v1 import workloads_pb2

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_every_cli_message_has_chinese_with_the_same_fields() -> None:
    missing = [k for k, v in MESSAGES.items() if translated("zh", f"cli:{k}", v) is None]
    assert not missing, f"no Chinese for: {missing}"
    for key, english in MESSAGES.items():
        chinese = translated("zh", f"cli:{key}", english) or ""
        assert sorted(re.findall(r"\{\w+\}", english)) == sorted(re.findall(r"\{\w+\}", chinese))
        assert CHINESE.search(chinese), key


def test_validate_says_valid_in_the_locales_language() -> None:
    done = tongchou("validate", SAMPLE, lang="zh_CN.UTF-8")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("有效：") and "个集群" in done.stdout
    english = tongchou("validate", SAMPLE, "--lang", "en", lang="zh_CN.UTF-8")
    assert english.stdout.startswith("valid: ")


def test_validate_errors_keep_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: tongchou.io/v1\nkind: Division\nmetadata:\n  name: x\n"
        "spec:\n  code: '44'\n  level: nowhere\n",
        encoding="utf-8",
    )
    english = tongchou("validate", bad)
    chinese = tongchou("validate", bad, "--lang", "zh")
    assert english.returncode == chinese.returncode == 2
    assert f"{bad}:" in chinese.stderr and "第 1 个文档（Division x）" in chinese.stderr
    assert "document 1 (Division x)" in english.stderr
    # the rest of each line (field path and the check's message) is the same in both
    tail = english.stderr.splitlines()[0].split("document 1 (Division x)", 1)[1]
    assert tail in chinese.stderr


def test_workloads_without_their_fleet_get_the_hint_in_chinese() -> None:
    done = tongchou("validate", SAMPLE / "workloads", "--lang", "zh")
    assert done.returncode == 2
    assert say("zh", "undeclared_hint") in done.stderr and "提示：" in done.stderr


def test_policy_check_lists_and_sums_up_in_chinese() -> None:
    done = tongchou("policy", "check", ROOT / "policies", "--lang", "zh")
    assert done.returncode == 0, done.stderr
    assert "条策略有效" in done.stdout and "给定" in done.stdout
    wrong = tongchou("policy", "check", SAMPLE, "--lang", "zh")
    assert wrong.returncode == 2 and "不是策略：" in wrong.stderr


def test_schedule_sums_up_in_chinese_and_plan_refuses_in_chinese() -> None:
    args = ["--fleet", SAMPLE, "--workloads", SAMPLE / "workloads"]
    done = tongchou("schedule", *args, lang="zh_CN.UTF-8")
    assert done.returncode == 0, done.stderr
    assert "个工作负载：已放置 " in done.stdout and "假设（离线）：" in done.stdout
    none = tongchou("schedule", "--fleet", SAMPLE, "--workloads", SAMPLE, "--lang", "zh")
    assert none.returncode == 2 and "--workloads 中没有 Workload 文档" in none.stderr
    plan = tongchou("plan", "--fleet", SAMPLE, "--planning", SAMPLE / "planning", "-o", "csv",
                    "--lang", "zh")  # fmt: skip
    assert plan.returncode == 2 and "-o csv 只用于 --showback" in plan.stderr


def test_workload_lines_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    status = workloads_pb2.WorkloadStatus(
        name="portal", replicas=3, pending=2, reason="insufficient cpu"
    )
    assert "[2 个待放置：" in format_status(status, "zh")
    assert "[2 pending: insufficient cpu]" in format_status(status)
    explanation = workloads_pb2.Explanation(status=status)
    explanation.clusters.add(cluster="gd-a", removed_by="mlps", reason="arch not allowed")
    print_explanation(explanation, "zh")
    out = capsys.readouterr().out
    assert "当前：所有集群都是候选" in out and "被 mlps 排除：" in out
