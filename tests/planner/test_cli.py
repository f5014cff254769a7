"""`tongchou plan` end to end: the JSON and table forms on the sample province, and bad
inputs refused with exit 2 and a message naming file, line, document and field."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLEET = Path("examples/guangdong")
PLANNING = Path("examples/guangdong/planning")
SAMPLE_ARGS = ["--fleet", str(FLEET), "--planning", str(PLANNING), "--quiet"]


def plan(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tongchou", "plan", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write(tmp_path: Path, name: str, *documents: str) -> Path:
    path = tmp_path / name
    path.write_text("---\n".join(textwrap.dedent(d) for d in documents), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    lines = [i for i, t in enumerate(path.read_text("utf-8").splitlines(), 1) if needle in t]
    assert len(lines) == 1, f"{needle!r} in {path}: lines {lines}"
    return lines[0]


def demand(units: str = "4", platform: str = "video-conference") -> str:
    return f"""\
        apiVersion: tongchou.io/v1
        kind: Demand
        metadata: {{name: bad}}
        spec:
          division: "441422"
          platform: {platform}
          units: {units}
        """


def sku(domestic: str = "false", price: str = "  priceCny: 98000\n") -> str:
    return (
        "apiVersion: tongchou.io/v1\nkind: ServerSku\nmetadata: {name: bad}\nspec:\n"
        "  arch: x86_64\n  chip: intel-xeon-6330\n"
        f'  domestic: {domestic}\n  capacity: {{cpu: "112", memory: 512Gi}}\n{price}'
        "  powerW: 750\n"
    )


POLICY = """\
apiVersion: tongchou.io/v1
kind: PlanningPolicy
metadata: {name: strict}
spec:
  domesticShareMin: 0.5
"""


@pytest.fixture(scope="module")
def as_json() -> dict[str, Any]:
    done = plan(*SAMPLE_ARGS, "-o", "json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # --quiet: no progress
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_json_has_the_documented_keys(as_json: dict[str, Any]) -> None:
    assert set(as_json) == {
        "apiVersion", "kind", "decisions", "purchases", "cost", "baselineCny",
        "everyoneBuildsCny", "savingsCny", "sharedSpareCny", "utilization", "solver",
    }  # fmt: skip
    assert (as_json["apiVersion"], as_json["kind"]) == ("tongchou.io/v1", "Plan")
    assert set(as_json["cost"]) == {"serversCny", "energyCny", "buildsCny", "totalCny"}
    assert set(as_json["solver"]) == {
        "name", "status", "provenOptimal", "objectiveCny", "lowerBoundCny", "gap", "seconds",
    }  # fmt: skip
    assert as_json["solver"]["name"] == "HiGHS"
    assert isinstance(as_json["solver"]["provenOptimal"], bool)
    assert as_json["solver"]["provenOptimal"] == (as_json["solver"]["status"] == "optimal")
    decision_keys = {
        "demand", "division", "platform", "action", "instance", "site", "cluster", "latencyMs",
        "reason", "costCny", "aloneCny", "savesCny",
    }  # fmt: skip
    assert len(as_json["decisions"]) >= 90
    for decision in as_json["decisions"]:
        assert set(decision) == decision_keys
        assert decision["action"] in ("reuse", "build", "infeasible", "unserved")
        if decision["action"] in ("reuse", "build"):
            assert decision["instance"] == f"{decision['platform']}@{decision['site']}"
    for purchase in as_json["purchases"]:
        assert set(purchase) == {"site", "cluster", "sku", "servers", "costCny"}
        assert purchase["servers"] > 0
    assert as_json["utilization"]
    for level, shares in as_json["utilization"].items():
        assert level in ("province", "city", "county", "township")
        assert set(shares) == {"before", "after"}


def test_json_figures_add_up(as_json: dict[str, Any]) -> None:
    c = as_json["cost"]
    assert c["totalCny"] == pytest.approx(
        c["serversCny"] + c["energyCny"] + c["buildsCny"], abs=0.05
    )
    assert as_json["savingsCny"] == pytest.approx(
        as_json["everyoneBuildsCny"] - c["totalCny"], abs=0.05
    )
    assert as_json["savingsCny"] > 0
    # to the fen: the demands' costs and the shared spare are the total
    fen = sum(round(d["costCny"] * 100) for d in as_json["decisions"])
    assert fen + round(as_json["sharedSpareCny"] * 100) == round(c["totalCny"] * 100)
    assert c["totalCny"] <= as_json["baselineCny"] + 0.01
    solver = as_json["solver"]
    assert solver["objectiveCny"] == pytest.approx(c["totalCny"], rel=1e-6)
    assert solver["lowerBoundCny"] is not None
    assert solver["lowerBoundCny"] <= solver["objectiveCny"] * (1 + 1e-9)
    assert solver["provenOptimal"] or solver["gap"] <= 0.01
    assert sum(p["costCny"] for p in as_json["purchases"]) == pytest.approx(
        c["serversCny"] + c["energyCny"], abs=0.05 * (1 + len(as_json["purchases"]))
    )


def test_table_names_purchases_solver_and_savings() -> None:
    done = plan(*SAMPLE_ARGS)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "PURCHASES" in out and "SOLVER" in out and "saves" in out
    assert "HiGHS" in out and "BASELINE" in out
    assert "441422-video-conference" in out


def refused(*args: str | Path) -> str:
    done = plan(*args)
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == ""
    return done.stderr


def test_unknown_platform_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", demand(platform="video-conferance"))
    err = refused(*SAMPLE_ARGS, "--planning", path)
    line = line_of(path, "platform: video-conferance")
    assert f"{path}:{line}: document 1 (Demand bad): spec.platform: " in err
    assert 'Platform "video-conferance" is not declared; did you mean "video-conference"?' in err


def test_negative_units_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", demand(units="-3"))
    err = refused(*SAMPLE_ARGS, "--planning", path)
    line = line_of(path, "units: -3")
    assert f"{path}:{line}: document 1 (Demand bad): spec.units: must be more than 0, got -3" in err


def test_sku_without_price_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", demand(), sku(price=""))
    err = refused(*SAMPLE_ARGS, "--planning", path)
    line = line_of(path, "kind: ServerSku") + 2  # a missing field: reported at its parent
    assert path.read_text("utf-8").splitlines()[line - 1] == "spec:"
    assert f"{path}:{line}: document 2 (ServerSku bad): spec.priceCny: " in err
    assert "required field is missing" in err
    assert "document 1" not in err  # the good demand in front of it is not blamed


def test_impossible_domestic_share_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "skus.yaml", sku(), POLICY)
    err = refused(
        "--fleet", FLEET,
        "--planning", PLANNING / "catalog.yaml",
        "--planning", PLANNING / "demands.yaml",
        "--planning", path,
        "--quiet",
    )  # fmt: skip
    line = line_of(path, "domesticShareMin")
    assert (
        f"{path}:{line}: document 2 (PlanningPolicy strict): spec.domesticShareMin: "
        "domesticShareMin is 0.5 but no ServerSku is domestic: the share cannot be met"
    ) in err


def test_bad_time_limit_is_refused() -> None:
    err = refused(*SAMPLE_ARGS, "--time-limit", "abc")
    assert "--time-limit" in err and "'abc'" in err


def test_a_reader_that_stops_early_ends_the_plan_quietly() -> None:
    """`tongchou plan | head -1`: the reader closes the pipe after one line; the plan stops
    without a BrokenPipe traceback."""
    with subprocess.Popen(
        [sys.executable, "-m", "tongchou", "plan", *SAMPLE_ARGS, "-o", "json"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()  # as `head -1` does once it has its line
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=120)
    assert first.startswith(b"{")
    assert "Traceback" not in err, err
    assert "BrokenPipe" not in err, err
    assert code in (0, 1)
