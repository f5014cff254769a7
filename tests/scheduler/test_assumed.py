"""`schedule` says what its offline run assumed, and why a live hub may place differently."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from console.model.fleet import Fleet, Node, Resources
from console.scheduler.assumed import assumptions
from tests.samples import ROOT, SAMPLE
from tests.scheduler.test_guardrails import tongchou


def test_the_table_and_json_say_what_the_run_assumed() -> None:
    args = ("--fleet", SAMPLE, "--workloads", SAMPLE / "workloads")
    table = tongchou("schedule", *args)
    assert table.returncode == 0, table.stderr
    tail = table.stdout.split("assumed (offline):\n", 1)[1]
    assert "58 clusters and 3,587 nodes from the fleet files" in tail
    assert "every one declares status.allocated" in tail
    assert "only these 10 workloads hold capacity" in tail
    assert "4 built-in guardrails and 0 from --policies" in tail
    assert "a live hub places against" in tail
    assert max(len(line) for line in tail.splitlines()) <= 100
    data = json.loads(tongchou("schedule", *args, "-o", "json").stdout)
    assert data["assumed"][0].startswith("58 clusters and 3,587 nodes")
    assert data["assumed"][-1].startswith("a live hub places against")


def test_nodes_without_a_declared_allocation_start_empty() -> None:
    fleet = Fleet()
    cpu = Resources(64_000, 2**38)
    fleet.nodes["a"] = Node("a", "c", "x86_64", "hygon-7380", cpu, Resources(8_000, 0))
    fleet.nodes["b"] = Node("b", "c", "x86_64", "hygon-7380", cpu)
    said = " ".join(assumptions(fleet, [], []))
    assert "1 declare status.allocated (counted as in use), the rest start empty" in said
    del fleet.nodes["a"]
    said = " ".join(assumptions(fleet, [], []))
    assert "none declares status.allocated: every node starts empty" in said


def test_the_reasons_follow_the_locale_and_lang() -> None:
    args = ["schedule", "--fleet", str(SAMPLE), "--workloads", str(SAMPLE / "workloads")]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}

    def run(*extra: str, **lang: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "tongchou", *args, *extra],
            cwd=ROOT, env={**env, **lang}, capture_output=True, text=True, timeout=120,
            check=True,
        )  # fmt: skip
        return done.stdout

    chinese = "不存在等保 4 级的集群（有就绪节点的集群最高为 3 级）"
    english = "no cluster at MLPS level 4 exists (the highest with ready nodes is 3)"
    assert chinese in run(LANG="zh_CN.UTF-8")
    assert english in run("--lang", "en", LANG="zh_CN.UTF-8")
    assert english in run(LANG="C.UTF-8")
    assert english in run("-o", "json", LANG="zh_CN.UTF-8")  # machine output stays English
