"""Every reason the planner gives, and every word of its report, reads in Chinese: a reason in
a new shape (or a shape without Chinese) fails here; `tongchou plan --lang zh` shows them."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from console.documents import build_fleet, load_documents
from console.documents.planning import planning_input
from console.model.planning import PlanningInput, PlanningPolicy
from console.planner.cli import render, to_json
from console.planner.greedy import greedy
from console.planner.milp import solve
from console.planner.problem import build_problem
from console.planner.report import Plan, make_plan
from tests.samples import ROOT, SAMPLE
from tongchou.divisions import Level
from tongchou.plantext import reason_text

from .test_rules import SKU, Room, demand, plan_of, platform, province

ENGLISH = re.compile(r"(?<![\w.@/-])[A-Za-z]{2,}[ ;:,]+[a-z]{2,}(?![\w@-])")
"""Two English words in a row: untranslated text (names, units and policy names are single
words)."""


def scenarios() -> list[Plan]:
    """The sample province planned, and small plans that end in the other kinds of reason."""
    documents = load_documents([SAMPLE, SAMPLE / "planning"])
    problem = build_problem(build_fleet(documents), planning_input(documents))
    baseline = greedy(problem)
    out = [make_plan(problem, solve(problem, baseline, time_limit=30, gap=1e-3), baseline)]
    out.append(plan_of(  # no cluster in the residency; an MLPS-2 room only
        province([Room("city-dc", "440100", mlps=2, nodes=[(64, 0)])]),
        platform(), [demand("440100", residency="440100"), demand("440300", residency="440300")],
    ))  # fmt: skip
    out.append(plan_of(  # equal cost, nearer
        province([Room("prov-dc", "440000", nodes=[(64, 0)]),
                  Room("tianhe-room", "440106", nodes=[(64, 0)])]),
        platform(build=0.0, instances=("prov-dc",)), [demand("440106")],
    ))  # fmt: skip
    out.append(plan_of(  # the latency bound, with the nearest site that passes the rest
        province([Room("a-room", "440305", nodes=[(64, 0)]),
                  Room("prov-dc", "440000", nodes=[(64, 0)])]),
        platform(min_level=Level.PROVINCE, instances=("prov-dc",)),
        [demand("440100", latency_max_ms=4), demand("440305")],
    ))  # fmt: skip
    planning = PlanningInput(  # a standby with no second site
        platforms={"data-exchange": platform()},
        demands={"d": demand("440100")},
        skus={SKU.name: SKU},
        policy=PlanningPolicy(target_utilization=1.0, horizon_years=1, redundancy="site"),
    )
    problem = build_problem(province([Room("city-dc", "440100", nodes=[(64, 0)])]), planning)
    baseline = greedy(problem)
    out.append(make_plan(problem, solve(problem, baseline, time_limit=20, gap=0), baseline))
    return out


@pytest.fixture(scope="module")
def plans() -> list[Plan]:
    return scenarios()


def test_every_reason_reads_in_chinese(plans: list[Plan]) -> None:
    said = {d.reason for plan in plans for d in plan.decisions}
    assert len(said) >= 20
    kinds = {d.action for plan in plans for d in plan.decisions}
    assert kinds >= {"reuse", "build", "infeasible"}
    left = {}
    for reason in said:
        chinese = reason_text("zh", reason)
        if ENGLISH.search(chinese):
            left[reason] = chinese
    assert not left, "\n".join(f"{k}\n  → {v}" for k, v in sorted(left.items()))


def test_the_report_reads_in_chinese_and_english_stays_as_it_was(plans: list[Plan]) -> None:
    for plan in plans:
        chinese = render(plan, "zh")
        found = [line for line in chinese.splitlines() if ENGLISH.search(line)]
        assert not found, "\n".join(found)
        english = render(plan)
        assert english.splitlines()[2].startswith("DEMAND ")
        assert "PURCHASES" in english and "SOLVER     HiGHS: " in english
    chinese = render(plans[0], "zh")
    assert "复用" in chinese and "求解器" in chinese and "需求" in chinese.splitlines()[2]


def test_values_and_names_pass_through(plans: list[Plan]) -> None:
    reason = next(d.reason for d in plans[0].decisions if "refused by policy residency" in d.reason)
    chinese = reason_text("zh", reason)
    assert "被策略 residency 拒绝" in chinese
    assert re.findall(r"[\w@.-]+@[\w.-]+", reason) == re.findall(r"[\w@.-]+@[\w.-]+", chinese)
    assert reason_text("en", reason) == reason
    assert reason_text("zh", "a sentence in no catalog") == "a sentence in no catalog"


def test_plan_lang_zh_prints_the_table_in_chinese_and_json_stays_english() -> None:
    args = ["--fleet", SAMPLE, "--planning", SAMPLE / "planning", "--quiet", "--time-limit", "20s"]
    run = [sys.executable, "-m", "tongchou", "plan", *map(str, args)]
    for extra, lang in (["--lang", "zh"], "en_US.UTF-8"), ([], "zh_CN.UTF-8"):  # or the locale
        env = {"LANG": lang, "PATH": "/usr/bin:/bin"}
        done = subprocess.run(
            [*run, *extra], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
            env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("94 项需求：复用 ") and "求解器     HiGHS：" in done.stdout
    as_json = subprocess.run([*run, "-o", "json"], cwd=ROOT, capture_output=True, text=True,
                             timeout=120, check=False, env={"LANG": "zh_CN.UTF-8",
                             "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert as_json.returncode == 0, as_json.stderr
    decisions = json.loads(as_json.stdout)["decisions"]
    assert all(not re.search(r"[\u4e00-\u9fff]", d["reason"]) for d in decisions)


def test_the_plans_json_renders_the_same_table(plans: list[Plan]) -> None:
    from tongchou.plantext import render as from_json

    for plan in plans:
        doc = json.loads(json.dumps(to_json(plan), ensure_ascii=False))
        assert from_json(doc, "zh") == render(plan, "zh")
