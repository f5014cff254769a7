"""`tongchou apply` against emulated clusters: dry run, apply, and per-cluster errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.executor.emulator import EmulatedCluster, write_kubeconfig
from tests.executor.fleet import BASE, NODES, THIRD, THIRD_NODES, workload, write
from tongchou.cli import main


def tongchou(*args: str) -> int:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    return int(done.value.code or 0)


def inputs(tmp_path: Path, third: bool = False) -> list[str]:
    fleet = write(tmp_path, "fleet.yaml", BASE, THIRD if third else "", NODES)
    if third:
        write(tmp_path, "fleet.yaml", BASE, THIRD, NODES, THIRD_NODES)
    loads = [
        workload("gz-portal", "440100", 3, archs="x86_64"),
        workload("sz-e-seal", "440300", 2, archs="aarch64"),
    ]
    if third:
        loads.append(workload("qy-archive", "440000", 1, archs="loongarch64"))
    works = write(tmp_path, "workloads.yaml", *loads)
    return ["--fleet", str(fleet), "--workloads", str(works)]


def test_dry_run_writes_manifests_per_cluster_and_touches_nothing(
    tmp_path: Path, clusters: dict[str, EmulatedCluster], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "manifests"
    assert tongchou("apply", *inputs(tmp_path), "--dry-run", "--output-dir", str(out)) == 0
    gz = list(yaml.safe_load_all((out / "gz-a.yaml").read_text(encoding="utf-8")))
    sz = list(yaml.safe_load_all((out / "sz-b.yaml").read_text(encoding="utf-8")))
    assert [(o["kind"], o["metadata"]["name"]) for o in gz] == [
        ("Namespace", "tc-440100"),
        ("ResourceQuota", "tongchou"),
        ("Deployment", "gz-portal"),
    ]
    assert gz[2]["spec"]["replicas"] == 3
    assert [o["kind"] for o in sz] == ["Namespace", "ResourceQuota", "Deployment"]
    assert "gz-a: 3 objects written to" in capsys.readouterr().out
    assert all(c.writes() == 0 for c in clusters.values())


def test_apply_then_apply_again_changes_nothing(
    tmp_path: Path, clusters: dict[str, EmulatedCluster], capsys: pytest.CaptureFixture[str]
) -> None:
    kubeconfig = write_kubeconfig(
        tmp_path / "kubeconfig", {f"ctx-{n}": c.url for n, c in clusters.items()}
    )
    args = ["apply", *inputs(tmp_path), "--kubeconfig", str(kubeconfig)]
    assert tongchou(*args) == 0
    first = capsys.readouterr().out
    assert "gz-a: 3 created, 0 updated, 0 unchanged, 0 deleted" in first
    assert ("Deployment", "tc-440300", "sz-e-seal") in clusters["sz-b"].objects()
    assert tongchou(*args) == 0
    assert "gz-a: 0 created, 0 updated, 3 unchanged, 0 deleted" in capsys.readouterr().out


def test_bad_context_and_unreachable_api_are_reported_per_cluster(
    tmp_path: Path, clusters: dict[str, EmulatedCluster], capsys: pytest.CaptureFixture[str]
) -> None:
    # qy-c's context is not in the kubeconfig; sz-b's API server is down; gz-a is fine.
    kubeconfig = write_kubeconfig(
        tmp_path / "kubeconfig", {f"ctx-{n}": c.url for n, c in clusters.items()}
    )
    clusters["sz-b"].stop()
    code = tongchou("apply", *inputs(tmp_path, third=True), "--kubeconfig", str(kubeconfig))
    out = capsys.readouterr().out
    assert code == 2
    assert "gz-a: 3 created" in out
    assert (
        f"qy-c: error (config): context 'ctx-qy-c' is not in kubeconfig {kubeconfig}"
        " (it has: ctx-gz-a, ctx-sz-b)"
    ) in out
    assert f"sz-b: error (unreachable): API server {clusters['sz-b'].url} is unreachable" in out
    assert ("Deployment", "tc-440100", "gz-portal") in clusters["gz-a"].objects()


def test_unreachable_only_is_a_runtime_failure(
    tmp_path: Path, clusters: dict[str, EmulatedCluster], capsys: pytest.CaptureFixture[str]
) -> None:
    kubeconfig = write_kubeconfig(
        tmp_path / "kubeconfig", {f"ctx-{n}": c.url for n, c in clusters.items()}
    )
    clusters["gz-a"].stop()
    assert tongchou("apply", *inputs(tmp_path), "--kubeconfig", str(kubeconfig)) == 1
    out = capsys.readouterr().out
    assert "gz-a: error (unreachable)" in out
    assert "sz-b: 3 created" in out


def test_missing_kubeconfig(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope" / "config"
    assert tongchou("apply", *inputs(tmp_path), "--kubeconfig", str(missing)) == 2
    out = capsys.readouterr().out
    assert f"gz-a: error (config): kubeconfig {missing} does not exist" in out
    assert f"sz-b: error (config): kubeconfig {missing} does not exist" in out


def test_bad_documents_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = inputs(tmp_path)
    Path(args[3]).write_text(workload("x", "440100", 1).replace("mlpsLevel: 3", "mlpsLevel: 9"))
    assert tongchou("apply", *args, "--dry-run") == 2
    assert "spec.mlpsLevel" in capsys.readouterr().err


def test_malformed_kubeconfig_and_a_context_without_its_cluster(
    tmp_path: Path, clusters: dict[str, EmulatedCluster], capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken"
    broken.write_text("clusters: [\n  - {name: x\n", encoding="utf-8")
    assert tongchou("apply", *inputs(tmp_path), "--kubeconfig", str(broken)) == 2
    out = capsys.readouterr().out
    assert f"gz-a: error (config): kubeconfig {broken} cannot be read:" in out
    # a context that points at a cluster entry the file does not have
    kubeconfig = write_kubeconfig(
        tmp_path / "kubeconfig", {f"ctx-{n}": c.url for n, c in clusters.items()}
    )
    data = yaml.safe_load(kubeconfig.read_text(encoding="utf-8"))
    data["contexts"][1]["context"]["cluster"] = "nowhere"
    kubeconfig.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert tongchou("apply", *inputs(tmp_path), "--kubeconfig", str(kubeconfig)) == 2
    out = capsys.readouterr().out
    assert "gz-a: 3 created" in out
    assert f"sz-b: error (config): context 'ctx-sz-b' in kubeconfig {kubeconfig} is unusable" in (
        out
    )


def test_a_refused_object_makes_apply_exit_2_and_the_rest_is_applied(
    tmp_path: Path, clusters: dict[str, EmulatedCluster], capsys: pytest.CaptureFixture[str]
) -> None:
    clusters["gz-a"].fail(
        "POST",
        "/apis/apps/v1/namespaces/tc-440100/deployments",
        403,
        'admission webhook "images.gd.gov.cn" denied the request: image not signed',
    )
    kubeconfig = write_kubeconfig(
        tmp_path / "kubeconfig", {f"ctx-{n}": c.url for n, c in clusters.items()}
    )
    args = ["apply", *inputs(tmp_path), "--kubeconfig", str(kubeconfig)]
    assert tongchou(*args) == 2
    out = capsys.readouterr().out
    assert "gz-a: 2 created, 0 updated, 0 unchanged, 0 deleted, 1 refused" in out
    assert "gz-a: Deployment tc-440100/gz-portal refused (403): admission webhook" in out
    assert "sz-b: 3 created" in out
    assert tongchou(*args) == 0  # the webhook lets it through now
    assert "gz-a: 1 created, 0 updated, 2 unchanged, 0 deleted" in capsys.readouterr().out
