"""`tongchou policy check` and `tongchou schedule`, run as the user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from console.documents import build_fleet, load_documents, policies_of, workloads_of
from console.documents.builtin import with_guardrails
from console.scheduler import Scheduler
from tests.samples import SAMPLE

from .strategies import ROOT

SCHEDULE = [
    "schedule",
    "--fleet",
    str(SAMPLE),
    "--workloads",
    str(SAMPLE / "workloads"),
    "--policies",
    str(ROOT / "policies"),
]


def tongchou(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tongchou", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def policy_file(tmp_path: Path, spec: str, name: str = "p") -> Path:
    """A one-document policy file; `spec` is the body of `spec:` (line 6 onwards)."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        "apiVersion: tongchou.io/v1\n"
        "kind: PlacementPolicy\n"
        "metadata:\n"
        f"  name: {name}\n"
        "spec:\n" + textwrap.indent(textwrap.dedent(spec).strip("\n"), "  ") + "\n",
        encoding="utf-8",
    )
    return path


def test_default_policies_pass() -> None:
    run = tongchou("policy", "check", "policies")
    assert (run.returncode, run.stderr) == (0, "")
    lines = run.stdout.splitlines()
    assert lines[-1] == "7 policies valid; in force with them: 4 built-in compliance guardrails"
    listed = [line.split()[0] for line in lines[1:-1]]
    assert listed == sorted(
        ["architecture", "east-west", "headroom", "level-reuse", "mlps", "residency", "spread"]
    )


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        pytest.param(
            "require: cluster.mlpsLevel >=",
            "spec.require",
            "CEL error at 1:21: Syntax error: mismatched input '<EOF>'",
            id="syntax",
        ),
        pytest.param(
            "require: cluster.name > 3",
            "spec.require",
            "CEL error at 1:14: found no matching overload for '_>_' applied to '(string, int)'",
            id="type",
        ),
        pytest.param(
            "require: foo > 1",
            "spec.require",
            "CEL error at 1:1: undeclared reference to 'foo'",
            id="unknown-variable",
        ),
        pytest.param(
            "require: workload.mlpsLvl > 1",
            "spec.require",
            "CEL error at 1:9: undefined field 'mlpsLvl'",
            id="unknown-field",
        ),
        pytest.param(
            "require: cluster.mlpsLevel + 1",
            "spec.require",
            "must be a bool expression, but 'cluster.mlpsLevel + 1' is an int",
            id="require-not-bool",
        ),
        pytest.param(
            "prefer: cluster.name",
            "spec.prefer",
            "must be a number expression, but 'cluster.name' is a string",
            id="prefer-not-number",
        ),
        pytest.param(
            "limit: cluster.shared",
            "spec.limit",
            "must be a number expression, but 'cluster.shared' is a bool",
            id="limit-not-number",
        ),
        pytest.param(
            "spread: double(cluster.nodes)",
            "spec.spread",
            "may read only `workload` (it is decided once per workload)",
            id="spread-reads-cluster",
        ),
        pytest.param(
            "match: workload.replicas\nrequire: 'true'",
            "spec.match",
            "must be a bool expression, but 'workload.replicas' is an int",
            id="match-not-bool",
        ),
        pytest.param(
            "match: cluster.shared\nrequire: 'true'",
            "spec.match",
            "may read only `workload` (it is decided once per workload)",
            id="match-reads-cluster",
        ),
    ],
)
def test_bad_policy_is_reported_with_file_line_document_and_field(
    tmp_path: Path, spec: str, field: str, message: str
) -> None:
    path = policy_file(tmp_path, spec)
    form = field.rsplit(".", 1)[1]
    line = 6 + spec.splitlines().index(next(s for s in spec.splitlines() if s.startswith(form)))
    run = tongchou("policy", "check", str(path))
    assert run.returncode == 2
    assert run.stdout == ""
    [error] = run.stderr.splitlines()
    assert error.startswith(f"{path}:{line}: document 1 (PlacementPolicy p): {field}: {message}")


@pytest.mark.parametrize(
    ("spec", "got"),
    [
        ("require: 'true'\nprefer: '1.0'", "require, prefer"),
        ("message: nothing to do", "none"),
    ],
    ids=["two-forms", "no-form"],
)
def test_a_policy_needs_exactly_one_form(tmp_path: Path, spec: str, got: str) -> None:
    path = policy_file(tmp_path, spec)
    run = tongchou("policy", "check", str(path))
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        f"{path}:5: document 1 (PlacementPolicy p): spec: "
        f"give exactly one of require, prefer, limit, spread (got {got})"
    ]


def test_cel_position_is_within_a_multi_line_expression_of_a_later_document(
    tmp_path: Path,
) -> None:
    path = tmp_path / "two.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            apiVersion: tongchou.io/v1
            kind: PlacementPolicy
            metadata: {name: fine}
            spec: {require: "true"}
            ---
            apiVersion: tongchou.io/v1
            kind: PlacementPolicy
            metadata: {name: broken}
            spec:
              require: |-
                cluster.mlpsLevel >= 1 &&
                  cluster.bogus == 2
            """
        ),
        encoding="utf-8",
    )
    run = tongchou("policy", "check", str(path))
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        f"{path}:10: document 2 (PlacementPolicy broken): spec.require: CEL error at 2:10: "
        "undefined field 'bogus' not found in struct 'tongchou.v1.PolicyCluster'"
    ]


def test_policy_check_refuses_other_kinds() -> None:
    run = tongchou("policy", "check", str(SAMPLE))
    assert run.returncode == 2
    assert run.stderr.startswith("tongchou policy check: not policies: Cluster, Division")


# -- tongchou schedule -------------------------------------------------------------------


@pytest.fixture(scope="module")
def schedule_json() -> dict[str, Any]:
    run = tongchou(*SCHEDULE, "-o", "json")
    assert (run.returncode, run.stderr) == (0, "")
    data: dict[str, Any] = json.loads(run.stdout)
    return data


def test_schedule_json_is_a_placement_list(schedule_json: dict[str, Any]) -> None:
    assert list(schedule_json) == ["apiVersion", "kind", "placements", "assumed"]
    assert schedule_json["apiVersion"] == "tongchou.io/v1"
    assert schedule_json["kind"] == "PlacementList"
    placements = schedule_json["placements"]
    assert placements
    for p in placements:
        assert list(p) == ["workload", "replicas", "placed", "pending", "reason", "summary"]
        assert list(p["placed"]) == sorted(p["placed"])
        assert sum(p["placed"].values()) + p["pending"] == p["replicas"]
        assert bool(p["reason"]) == bool(p["pending"])


def test_schedule_json_equals_the_scheduler_in_process(schedule_json: dict[str, Any]) -> None:
    documents = load_documents([SAMPLE, SAMPLE / "workloads", ROOT / "policies"])
    policies = with_guardrails(policies_of(documents)).policies  # as the command runs them
    scheduler = Scheduler(build_fleet(documents), policies)
    placements = scheduler.schedule(workloads_of(documents))
    assert schedule_json["placements"] == [p.to_dict() for p in placements]


def test_schedule_output_is_stable(schedule_json: dict[str, Any]) -> None:
    again = tongchou(*SCHEDULE, "-o", "yaml")
    assert again.returncode == 0
    assert yaml.safe_load(again.stdout) == schedule_json


def test_schedule_explain_adds_every_cluster(schedule_json: dict[str, Any]) -> None:
    run = tongchou(*SCHEDULE, "--explain", "-o", "json")
    assert run.returncode == 0
    data = json.loads(run.stdout)
    clusters = len(build_fleet(load_documents([SAMPLE])).clusters)
    for plain, explained in zip(schedule_json["placements"], data["placements"], strict=True):
        rest = {k: v for k, v in explained.items() if k not in ("clusters", "summary")}
        assert rest == {k: v for k, v in plain.items() if k != "summary"}
        # The summary is worked out when something is pending, or when asked to explain.
        verdicts = explained["clusters"]
        left = sum(1 for v in verdicts if not v["removedBy"])
        assert explained["summary"].startswith(f"{left}/{clusters} clusters: ")
        if plain["pending"]:
            assert plain["summary"] == explained["summary"]
        assert len(verdicts) == clusters
        assert [v["cluster"] for v in verdicts] == sorted(v["cluster"] for v in verdicts)
        for v in verdicts:
            assert list(v) == [
                "cluster",
                "site",
                "removedBy",
                "reason",
                "fit",
                "cap",
                "terms",
                "score",
                "replicas",
            ]
            assert v["replicas"] == plain["placed"].get(v["cluster"], 0)
            if v["removedBy"]:
                assert v["reason"] and v["terms"] == {} and v["replicas"] == 0
            else:
                assert 0 < v["cap"] <= v["fit"]
                assert "balance" in v["terms"]


def test_schedule_with_a_broken_workload_names_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            apiVersion: tongchou.io/v1
            kind: Workload
            metadata: {name: fine}
            spec:
              owner: "440000"
              replicas: 2
              resources: {cpu: "1", memory: 1Gi}
              image: registry.example/fine:1
              mlpsLevel: 3
            ---
            apiVersion: tongchou.io/v1
            kind: Workload
            metadata: {name: broken}
            spec:
              owner: "440000"
              replicas: 2
              resources: {cpu: "1", memory: 1Gi}
              image: registry.example/broken:1
              mlpsLevel: 7
            """
        ),
        encoding="utf-8",
    )
    run = tongchou(
        "schedule", "--fleet", str(SAMPLE), "--workloads", str(path), "--policies", "policies"
    )
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.splitlines() == [
        f"{path}:19: document 2 (Workload broken): spec.mlpsLevel: must be 1 to 4, got 7"
    ]
