"""The compliance guardrails (MLPS, residency, architecture, level reuse) are in force
whether or not policies are given: for `schedule`, `apply`, `policy check` and the hub.
Running without them takes a loudly named flag, warns, and in the hub is audited."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from console.documents.builtin import (
    GUARDRAILS,
    UNSAFE_FLAG,
    builtin_policies,
    default_policies_dir,
    sample_dir,
    with_guardrails,
)
from console.hub.config import HubConfig
from console.hub.server import Hub
from console.model.workload import PlacementPolicy, PolicyForm
from console.store import SqliteStore
from console.store.audit import AuditLog, default_key_path, load_key

ROOT = Path(__file__).resolve().parents[2]

# A city whose only cluster is assessed at MLPS level 2, and a level-4 system of that city.
FLEET = """
apiVersion: tongchou.io/v1
kind: Division
metadata: {name: "440000"}
spec: {name: 广东省, level: province}
---
apiVersion: tongchou.io/v1
kind: Division
metadata: {name: "440100"}
spec: {name: 广州市, level: city, parent: "440000"}
---
apiVersion: tongchou.io/v1
kind: Site
metadata: {name: gz-a}
spec: {division: "440100", provider: on-prem, powerPriceCnyPerKwh: 0.68, pue: 1.3}
---
apiVersion: tongchou.io/v1
kind: Cluster
metadata: {name: gz-a-mlps2}
spec: {site: gz-a, mlpsLevel: 2, shared: true, kubeContext: gz-a}
---
apiVersion: tongchou.io/v1
kind: NodePool
metadata: {name: gz-a-pool}
spec:
  cluster: gz-a-mlps2
  arch: x86_64
  chip: hygon-7380
  count: 2
  capacity: {cpu: "64", memory: 256Gi}
"""
LEVEL4 = """
apiVersion: tongchou.io/v1
kind: Workload
metadata: {name: gz-core-finance}
spec:
  owner: "440100"
  replicas: 2
  resources: {cpu: "2", memory: 4Gi}
  image: registry.example.gov.cn/finance:1.0
  mlpsLevel: 4
"""


def tongchou(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tongchou", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET, encoding="utf-8")
    workloads = tmp_path / "workloads.yaml"
    workloads.write_text(LEVEL4, encoding="utf-8")
    return fleet, workloads


def placed(output: str) -> int:
    data = json.loads(output)
    return sum(sum(p["placed"].values()) for p in data["placements"])


def test_builtin_guardrails_ship_in_the_package() -> None:
    rails = builtin_policies()
    assert tuple(p.name for p in rails) == GUARDRAILS
    assert all(p.guardrail and p.form is PolicyForm.REQUIRE for p in rails)
    assert (sample_dir() / "divisions.yaml").is_file()
    assert (default_policies_dir() / "mlps.yaml").is_file()


def test_user_policies_add_to_the_guardrails_and_replace_one_only_by_name() -> None:
    mine = PlacementPolicy("cheap-power", PolicyForm.PREFER, "1.0 / site.pue")
    guarded = with_guardrails([mine])
    assert [p.name for p in guarded.policies] == [*GUARDRAILS, "cheap-power"]
    assert guarded.overridden == ()

    same = replace(builtin_policies()[0], guardrail=False, origin="policies/mlps.yaml:5")
    assert with_guardrails([same]).policies == builtin_policies()  # still a guardrail

    looser = PlacementPolicy("mlps", PolicyForm.REQUIRE, "cluster.mlpsLevel >= 1")
    guarded = with_guardrails([looser])
    assert guarded.overridden == (looser,)
    assert looser in guarded.policies
    assert sum(p.name == "mlps" for p in guarded.policies) == 1

    off = with_guardrails([mine], enabled=False)
    assert off.disabled and off.policies == (mine,)


@pytest.mark.parametrize("command", ["schedule", "apply"])
def test_an_mlps4_system_is_never_placed_below_mlps4_without_policies(
    command: str, files: tuple[Path, Path], tmp_path: Path
) -> None:
    fleet, workloads = files
    if command == "schedule":
        done = tongchou(command, "--fleet", fleet, "--workloads", workloads, "-o", "json")
        assert done.returncode == 0, done.stderr
        assert placed(done.stdout) == 0
        assert "MLPS" in done.stdout
        return

    def manifests(*flags: str) -> str:
        out = tmp_path / "-".join(("out", *flags))
        args = ("--fleet", fleet, "--workloads", workloads, "--dry-run", "--output-dir", out)
        done = tongchou(command, *args, *flags)
        assert done.returncode in (0, 1), done.stderr
        return "".join(p.read_text("utf-8") for p in out.rglob("*") if p.is_file())

    assert "gz-core-finance" not in manifests()
    assert "gz-core-finance" in manifests(UNSAFE_FLAG)  # the same run, the rule off


def test_the_unsafe_flag_turns_them_off_loudly(files: tuple[Path, Path]) -> None:
    fleet, workloads = files
    done = tongchou(
        "schedule", "--fleet", fleet, "--workloads", workloads, "-o", "json", UNSAFE_FLAG
    )
    assert done.returncode == 0, done.stderr
    assert placed(done.stdout) == 2
    assert "WARNING" in done.stderr and "guardrails" in done.stderr


def test_policy_check_names_the_builtin_guardrails() -> None:
    done = tongchou("policy", "check", "policies")
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line for line in done.stdout.splitlines()[1:-1]}
    for name in GUARDRAILS:
        assert "built-in guardrail" in rows[name]
    assert "built-in guardrail" not in rows["headroom"]


async def test_the_hub_keeps_them_without_policies_and_audits_turning_them_off(
    tmp_path: Path,
) -> None:
    hub = Hub(HubConfig(listen="127.0.0.1:0", metrics_listen=""), SqliteStore(tmp_path / "a.db"))
    assert [p.name for p in hub.workloads.policies] == list(GUARDRAILS)

    store = tmp_path / "b.db"
    config = HubConfig(listen="127.0.0.1:0", metrics_listen="", guardrails_off=True)
    hub = Hub(config, SqliteStore(store))
    assert hub.workloads.policies == []
    await hub.start()
    await hub.shutdown()
    audit = AuditLog(store, load_key(default_key_path(store), create=False))
    try:
        records = list(audit.records())
    finally:
        audit.close()
    assert any(r.object == "guardrails" and r.outcome == "off" for r in records), records
