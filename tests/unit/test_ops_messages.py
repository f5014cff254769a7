"""The service and administration commands (hub, agent, relay, simulate, demo, console, apply,
report, sample, ca, user, token, audit) speak Chinese under a Chinese locale or --lang zh:
their messages and the fixed words of their errors, with paths, flags and values kept."""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

import pytest

from console.executor.cli import report
from console.executor.outcome import ApplyResult
from console.store.sqlite import SqliteStore
from tests.samples import ROOT, SAMPLE
from tests.samples import tongchou as run_tongchou
from tongchou.i18n import translated
from tongchou.opsmsg import ERROR_CONTEXT, ERRORS, MESSAGES, error

CHINESE = re.compile(r"[\u4e00-\u9fff]")
ZH = "zh_CN.UTF-8"


def tongchou(*args: object, lang: str = ZH, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return run_tongchou(*args, lang=lang, cwd=cwd)


def test_every_error_shape_has_chinese_with_the_same_fields() -> None:
    missing = [shape for shape in ERRORS if translated("zh", ERROR_CONTEXT, shape) is None]
    assert not missing, f"no Chinese for: {missing}"
    for shape in ERRORS:
        chinese = translated("zh", ERROR_CONTEXT, shape) or ""
        assert sorted(re.findall(r"\{\w+\}", shape)) == sorted(re.findall(r"\{\w+\}", chinese))
        words = re.sub(r"\{\w+\}|--?[\w-]+", "", shape)  # a frame of flags only has none
        assert CHINESE.search(chinese) or not re.search(r"[a-z]", words), shape
    assert set(MESSAGES) <= set(__import__("tongchou.climsg").climsg.MESSAGES)


def test_an_error_keeps_its_values_and_an_unknown_one_stays_english() -> None:
    said = error("zh", "--serial 'zz': not a hexadecimal serial")
    assert said == "--serial 'zz'：不是十六进制序列号"
    assert error("en", "--serial 'zz': not a hexadecimal serial").endswith("hexadecimal serial")
    assert error("zh", "something nobody wrote a shape for") == "something nobody wrote a shape for"


def test_ca_says_what_it_made_and_refuses_in_chinese(tmp_path: Path) -> None:
    made = tongchou("ca", "init", "--dir", tmp_path / "ca")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"已创建 CA：{tmp_path / 'ca' / 'ca.crt'}")
    bad = tongchou("ca", "issue", "--dir", tmp_path / "ca", "--kind", "node", "--name", "n1",
                   "--host", "x")  # fmt: skip
    assert bad.returncode == 2 and "tongchou ca: --host 只适用于 --kind hub 或 relay" in bad.stderr
    english = tongchou("ca", "init", "--dir", tmp_path / "ca2", "--lang", "en")
    assert english.stdout.startswith("CA created: ")


def test_user_token_and_audit_in_chinese(tmp_path: Path) -> None:
    store = tmp_path / "hub.db"
    SqliteStore(store).close()
    gone = tongchou("user", "delete", "--store", store, "--name", "nobody")
    assert gone.returncode == 2 and "tongchou user: 没有用户 'nobody'" in gone.stderr
    token = tongchou("token", "create", "--store", store, "--node", "n1", "--site", "a")
    assert token.returncode == 2 and "三者要么都给，要么都不给" in token.stderr
    verified = tongchou("audit", "verify", "--store", store)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("审计日志完好：")
    missing = tongchou("audit", "verify", "--store", tmp_path / "none.db")
    assert missing.returncode == 2 and "没有此存储文件" in missing.stderr


def test_hub_agent_relay_and_simulate_refuse_bad_flags_in_chinese() -> None:
    hub = tongchou("hub", "--insecure", "--max-connections", "0")
    assert hub.returncode == 2 and "--max-connections 必须为正数，实际为 0" in hub.stderr
    agent = tongchou("agent", "--once", "--mlps-level", "7")
    assert agent.returncode == 2 and "等保级别必须为 1 到 4，实际为 '7'" in agent.stderr
    relay = tongchou("relay", "--insecure", "--hub", "127.0.0.1:1")
    assert relay.returncode == 2 and "使用 --insecure 时必须给出 --site" in relay.stderr
    simulate = tongchou("simulate", "--fleet", SAMPLE, "--limit", "-1", "--insecure")
    assert simulate.returncode == 2 and "--limit 不能为负数" in simulate.stderr


def test_console_report_and_sample_in_chinese(tmp_path: Path) -> None:
    console = tongchou("console")
    assert console.returncode == 2 and "中枢使用双向 TLS" in console.stderr
    report = tongchou("report", "--month", "2026-01", "-o", tmp_path / "r.txt", "--insecure")
    assert report.returncode == 2 and "报告只能写为 .pdf 或 .html" in report.stderr
    tongchou("sample", tmp_path / "s")
    again = tongchou("sample", tmp_path / "s")
    assert again.returncode == 2 and f"{tmp_path / 's'} 已存在；请指定一个新目录" in again.stderr


def test_apply_dry_run_and_demo_progress_in_chinese(tmp_path: Path) -> None:
    applied = tongchou("apply", "--fleet", SAMPLE, "--workloads", SAMPLE / "workloads",
                       "--dry-run", "--output-dir", tmp_path / "m")  # fmt: skip
    assert applied.returncode == 0, applied.stderr
    assert f"个对象已写入 {tmp_path / 'm'}" in applied.stdout
    demo = tongchou("demo", "--fleet", tmp_path / "none", "--state-dir", tmp_path / "demo")
    assert demo.returncode == 2
    assert "正在加载资源池" in demo.stderr and "tongchou demo: 资源池文档无效：" in demo.stderr


def test_a_busy_metrics_port_is_named_in_chinese(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = tongchou("hub", "--insecure", "--listen", "127.0.0.1:0", "--metrics-listen",
                        f"127.0.0.1:{port}", "--store", tmp_path / "hub.db")  # fmt: skip
    assert done.returncode == 2
    assert (
        f"tongchou hub: 无法在 127.0.0.1:{port} 上提供 /metrics（--metrics-listen）："
        in done.stderr
    )
    assert "INFO tongchou.hub: loaded 0 nodes" in done.stderr  # the log stays English


def test_apply_sums_up_each_cluster_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    result = ApplyResult("gz-a", created=["a", "b"], unchanged=["c"], refused=["Pod x: denied"])
    result.alerts.append("quota exceeded")
    assert report([result], "zh") == 2
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "gz-a: 新建 2 个，更新 0 个，未变 1 个，删除 0 个，被拒 1 个"
    assert out[1] == "gz-a: Pod x: denied" and out[2] == "gz-a: 告警：quota exceeded"
    report([result], "en")
    assert capsys.readouterr().out.startswith("gz-a: 2 created, 0 updated, 1 unchanged")
