"""Executable plans: the sample province's plan, emitted as documents by `tongchou plan
--emit-workloads`, is placed by the scheduler with nothing pending, and an independent
check of every placement finds each rule kept (MLPS, sharing, residency, the planned
cluster). Also the measured latency matrix, and its errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from console.documents import build_fleet, load_documents, policies_of, workloads_of
from console.model.workload import Workload
from console.planner.rules import CLUSTER_LABEL, guardrails
from console.scheduler.scheduler import Scheduler
from tongchou.divisions import ancestors, contains

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "guangdong"
FILES = ("nodes.yaml", "workloads.yaml", "policies.yaml")


def plan(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tongchou", "plan", "--fleet", str(SAMPLE), "--planning",
         str(SAMPLE / "planning"), "--quiet", *map(str, args)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def emitted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("plan")
    done = plan("--emit-workloads", folder)
    assert done.returncode == 0, done.stderr
    return folder


def test_emitted_workloads_schedule_with_nothing_pending(emitted: Path) -> None:
    documents = load_documents([SAMPLE, *(emitted / n for n in FILES)])
    fleet = build_fleet(documents)
    workloads = [w for w in workloads_of(documents) if CLUSTER_LABEL in w.labels]
    pin = [p for p in policies_of(documents) if p.name == "planned-cluster"]
    assert len(workloads) >= 90
    placements = Scheduler(fleet, [*guardrails(), *pin]).schedule(workloads)
    pending = {p.workload: p.reason for p in placements if p.pending}
    assert pending == {}
    by_name: dict[str, Workload] = {w.name: w for w in workloads}
    for placement in placements:
        w = by_name[placement.workload]
        for name in placement.placed:
            assert _broken(fleet.clusters[name], fleet, w) == [], (w.name, name)


def _broken(cluster: object, fleet: object, w: Workload) -> list[str]:
    """The rules a placement breaks, checked from the documents (not by the policies)."""
    from console.model.fleet import Cluster, Fleet

    assert isinstance(cluster, Cluster) and isinstance(fleet, Fleet)
    site = fleet.sites[cluster.site]
    out = []
    if cluster.mlps_level < w.mlps_level:
        out.append(f"MLPS {cluster.mlps_level} < {w.mlps_level}")
    own = site.division == w.owner
    if not own and not (cluster.shared and site.division in ancestors(w.owner)):
        out.append("neither the owner's own nor a shared ancestor cluster")
    if w.residency and not contains(w.residency, site.division):
        out.append(f"outside residency {w.residency}")
    if w.labels.get(CLUSTER_LABEL) != cluster.name:
        out.append("not the planned cluster")
    archs = {n.arch for n in fleet.nodes_in(cluster.name)}
    if w.archs and not archs & set(w.archs):
        out.append("no allowed arch")
    return out


def test_every_build_is_on_a_cluster_that_meets_mlps_and_sharing(emitted: Path) -> None:
    documents = load_documents([SAMPLE, emitted / "workloads.yaml"])
    fleet = build_fleet(documents)
    workloads = [w for w in workloads_of(documents) if CLUSTER_LABEL in w.labels]
    assert workloads
    for w in workloads:
        cluster = fleet.clusters[w.labels[CLUSTER_LABEL]]
        site = fleet.sites[cluster.site]
        assert cluster.mlps_level >= w.mlps_level, w.name
        assert site.division == w.owner or (cluster.shared and contains(site.division, w.owner))


def test_emitted_folder_holds_the_pin_policy_and_purchases(emitted: Path) -> None:
    policies = policies_of(load_documents([SAMPLE, emitted / "policies.yaml"]))
    assert "planned-cluster" in [p.name for p in policies]
    text = (emitted / "nodes.yaml").read_text("utf-8")
    assert "kind: NodePool" in text or text.startswith("# nothing")


def test_latency_matrix_replaces_the_estimate(tmp_path: Path) -> None:
    # measured: 大埔 reaches the province's Huawei site in 4 ms (estimate 7 ms)
    matrix = tmp_path / "latency.csv"
    matrix.write_text("division,site,ms\n441422,gd-huawei-gz,4\n", encoding="utf-8")
    done = plan("--latency-matrix", matrix)
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("441422-video-conference "))
    assert "reuse video-conference@gd-huawei-gz: est. 4 ms ≤ 5 ms" in line


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("441422,nowhere,4", "site 'nowhere' is not in the fleet"),
        ("4414,gd-huawei-gz,4", "is not a GB/T 2260 code"),
        ("441422,gd-huawei-gz,fast", "ms 'fast' is not a number"),
        ("441422,gd-huawei-gz", "expected division,site,ms"),
    ],
)
def test_bad_latency_matrix_is_refused(tmp_path: Path, row: str, message: str) -> None:
    matrix = tmp_path / "latency.csv"
    matrix.write_text(f"# measured\n{row}\n", encoding="utf-8")
    done = plan("--latency-matrix", matrix)
    assert done.returncode == 2
    assert f"{matrix}:2: " in done.stderr and message in done.stderr


def test_platform_without_image_cannot_be_emitted(tmp_path: Path) -> None:
    planning = tmp_path / "planning"
    planning.mkdir()
    for source in (SAMPLE / "planning").iterdir():
        text = source.read_text("utf-8")
        if source.name == "catalog.yaml":
            text = "\n".join(x for x in text.splitlines() if not x.startswith("  image:"))
        (planning / source.name).write_text(text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "tongchou", "plan", "--fleet", str(SAMPLE), "--planning",
         str(planning), "--quiet", "--emit-workloads", str(tmp_path / "out")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "has no spec.image" in done.stderr
