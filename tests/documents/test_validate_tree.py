"""`tongchou validate` reads folders whole: subfolders too, sorted by path, hidden ones not."""

from __future__ import annotations

import shutil
from pathlib import Path

from console.documents.errors import ErrorSink
from console.documents.source import expand_paths
from tests.documents.test_validate_hint import validate
from tests.samples import SAMPLE


def test_a_folder_is_read_with_its_subfolders_in_path_order(tmp_path: Path) -> None:
    for name in ("b.yaml", "a/z.yml", "a/b/c.yaml", "c.txt", ".git/x.yaml", "d/notes.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("kind: X\n")
    sink = ErrorSink()
    found = expand_paths([tmp_path], sink, recursive=True)
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a/b/c.yaml", "a/z.yml", "b.yaml",
    ]  # fmt: skip
    flat = expand_paths([tmp_path], ErrorSink(), recursive=False)
    assert [p.name for p in flat] == ["b.yaml"]  # what the other commands read: one level


def test_validate_the_sample_folder_reads_fleet_workloads_and_planning() -> None:
    done = validate(str(SAMPLE))
    assert done.returncode == 0, done.stderr
    for kind in ("Cluster", "Workload", "Demand", "ServerSku"):
        assert kind in done.stdout


def test_an_error_deep_in_a_tree_names_its_file(tmp_path: Path) -> None:
    tree = tmp_path / "province"
    shutil.copytree(SAMPLE, tree)
    bad = tree / "workloads" / "team" / "broken.yaml"
    bad.parent.mkdir()
    bad.write_text(
        "apiVersion: tongchou.io/v1\nkind: Workload\nmetadata: {name: x}\nspec:\n"
        '  owner: "440000"\n  replicas: -1\n'
    )
    done = validate(str(tree))
    assert done.returncode == 2
    assert f"{bad}:6:" in done.stderr
    empty = tmp_path / "empty" / "sub"
    empty.mkdir(parents=True)
    (empty / "readme.txt").write_text("no documents here")
    done = validate(str(tmp_path / "empty"))
    assert done.returncode == 2
    assert "or its subdirectories holds no .yaml or .yml files" in done.stderr
