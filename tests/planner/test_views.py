"""`tongchou plan --showback` and `--resilience` on the sample province (in process, so the
output is read from Python's stdout): showback sums to the plan to the fen; N-1 losses
name what loses service, what is absorbed, and what has nowhere left to go."""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from console.model.fleet import Cluster, Division, Fleet, Node, Resources, Site
from console.model.planning import Amount, Demand, PlanningInput, PlanningPolicy, Platform
from console.planner import cli, resilience
from console.planner.greedy import greedy
from console.planner.milp import solve
from console.planner.problem import build_problem
from tongchou.divisions import Level
from tongchou.plantext import money

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "guangdong"
GIB = 1 << 30


def run(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(
        ["--fleet", str(SAMPLE), "--planning", str(SAMPLE / "planning"), "--quiet", *extra]
    )
    code = cli.run(args)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def outputs() -> dict[str, Any]:
    """The plan's JSON, the showback's JSON and CSV, and the resilience JSON, one solve each."""
    got: dict[str, Any] = {}
    for key, extra in {
        "plan": ["-o", "json"],
        "showback": ["--showback", "-o", "json"],
        "csv": ["--showback", "-o", "csv"],
        "resilience": ["--resilience", "-o", "json"],
    }.items():
        parser = argparse.ArgumentParser()
        cli.add_arguments(parser)
        args = parser.parse_args(
            ["--fleet", str(SAMPLE), "--planning", str(SAMPLE / "planning"), "--quiet", *extra]
        )
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            assert cli.run(args) == 0
        text = buffer.getvalue()
        got[key] = text if key == "csv" else json.loads(text)
    return got


def test_showback_rows_sum_to_the_plan_to_the_fen(outputs: dict[str, Any]) -> None:
    show = outputs["showback"]
    assert show["kind"] == "Showback"
    total = sum(Decimal(r["totalCny"]) for r in show["rows"]) + Decimal(show["sharedSpareCny"])
    assert total == Decimal(show["planTotalCny"])
    assert total == Decimal(str(outputs["plan"]["cost"]["totalCny"])).quantize(Decimal("0.01"))
    for r in show["rows"]:
        parts = sum(Decimal(r[k]) for k in ("serversCny", "energyCny", "buildsCny"))
        assert parts == Decimal(r["totalCny"])
        assert Decimal(r["aloneCny"]) - Decimal(r["totalCny"]) == Decimal(r["savesCny"])
    by_level = sum(Decimal(v["totalCny"]) for v in show["byLevel"].values())
    by_provider = sum(Decimal(v["totalCny"]) for v in show["byProvider"].values())
    assert by_level == by_provider == total - Decimal(show["sharedSpareCny"])


def test_showback_csv_has_a_row_per_served_demand(outputs: dict[str, Any]) -> None:
    rows = list(csv.DictReader(io.StringIO(outputs["csv"])))
    served = [d for d in outputs["plan"]["decisions"] if d["action"] in ("reuse", "build")]
    assert len(rows) == len(served) >= 90
    assert {r["divisionLevel"] for r in rows} == {"city", "county", "township"}


def test_csv_without_showback_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "-o", "csv")
    assert code == 2 and "--showback" in err


def test_resilience_names_what_each_loss_does(outputs: dict[str, Any]) -> None:
    losses = {(x["kind"], x["name"]): x for x in outputs["resilience"]["losses"]}
    tianyi = losses["site", "gd-tianyi-gz"]
    assert tianyi["lostDemands"] and tianyi["earlierTenants"]
    # 东莞's data exchange must stay inside 441900, served at one site only: nowhere to go
    dongguan = losses["site", "dg-mobile"]
    assert "441900-data-exchange" in dongguan["stranded"]
    assert not dongguan["absorbed"]
    assert ("provider", "tianyi-cloud") in losses
    for x in losses.values():
        assert set(x["moved"]) | set(x["stranded"]) <= set(x["lostDemands"])


def _two_sites(room_b: int) -> tuple[Fleet, PlanningInput]:
    fleet = Fleet(
        divisions={
            "440000": Division("440000", "广东省", Level.PROVINCE, None),
            "440100": Division("440100", "广州市", Level.CITY, "440000"),
        }
    )
    for name, cores in (("a", 64), ("b", room_b)):
        fleet.sites[name] = Site(name, "440000", name, pue=1.3, power_price_cny_per_kwh=0.6)
        fleet.clusters[f"{name}-c"] = Cluster(f"{name}-c", name, 3, True)
        fleet.nodes[f"{name}-n"] = Node(
            f"{name}-n", f"{name}-c", "x86_64", "xeon", Resources(cores * 1000, cores * 4 * GIB)
        )
    platform = Platform("p", "平台", Amount(4000, 16 * GIB), Amount(1000, 4 * GIB), 1e6,
                        Level.PROVINCE)  # fmt: skip
    planning = PlanningInput(
        platforms={"p": platform},
        demands={"d": Demand("d", "440100", "p", 20)},
        policy=PlanningPolicy(target_utilization=1.0, horizon_years=1, redundancy="none"),
    )
    return fleet, planning


@pytest.mark.parametrize(("room_b", "absorbed"), [(64, True), (8, False)])
def test_a_lost_site_is_absorbed_only_where_there_is_room(room_b: int, absorbed: bool) -> None:
    fleet, planning = _two_sites(room_b)
    problem = build_problem(fleet, planning)
    outcome = solve(problem, greedy(problem), time_limit=10, gap=0)
    served_at = problem.pools[problem.options[0][outcome.solution.assign[0]].pool].site
    losses = {(x.kind, x.name): x for x in resilience.analyse(problem, planning, outcome.solution)}
    loss = losses["site", served_at]
    assert loss.lost == ["d"]
    assert loss.absorbed is (absorbed or served_at == "b")
    if not loss.absorbed:
        short = loss.short["province"]
        assert short.cpu == pytest.approx(24.0)  # the demand, and a new instance's base
        assert short.servers == 0 and short.sku == ""  # no SKU in this input


def test_planning_without_guardrails_is_loud(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--unsafe-no-guardrails")
    assert code == 0 and "SOLVER" in out
    assert "WARNING" in err and "guardrails" in err


def test_money_keeps_one_unit_for_every_size() -> None:
    """A report never mixes ¥25.20M with ¥3.38亿: millions of yuan throughout."""
    assert money(25_200_000) == "¥25.20M"
    assert money(338_000_000) == "¥338.00M"
    assert money(1_204_500_000) == "¥1,204.50M"
    assert money(9_876) == "¥9,876"
