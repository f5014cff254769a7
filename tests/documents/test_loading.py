"""Loading paths: directories, YAML problems, many errors at once, and the kind registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.documents import (
    MAX_ERRORS,
    ClusterSpec,
    Document,
    Kind,
    LoadError,
    SpecModel,
    known_kinds,
    load_documents,
    load_fleet,
    lookup,
    register,
    unregister,
)
from console.documents.fields import Text

from .helpers import BASE, Writer, errors_of, line_of, only_error, with_base

CLUSTER = (
    "apiVersion: tongchou.io/v1\nkind: Cluster\nmetadata: {name: %s}\n"
    "spec: {site: gz-dc, mlpsLevel: %s}\n"
)
NOTE = "apiVersion: tongchou.io/v1\nkind: TestNote\nmetadata: {name: n}\nspec: %s\n"


def test_directory_contributes_yaml_and_yml_sorted(write: Writer, tmp_path: Path) -> None:
    write("a-base.yaml", BASE)
    write("b-more.yml", CLUSTER % ("c2", 2))
    write("notes.txt", "not yaml: [")
    (tmp_path / "sub").mkdir()
    write("sub/c.yaml", "not: [valid")
    docs = load_documents([tmp_path])
    assert [(d.file.name, d.index) for d in docs][-2:] == [("a-base.yaml", 5), ("b-more.yml", 1)]
    assert [d.kind for d in docs] == ["Division"] * 3 + ["Site", "Cluster", "Cluster"]


def test_documents_keep_their_spec(write: Writer) -> None:
    docs = load_documents([write("f.yaml", BASE)])
    cluster = docs[-1]
    assert isinstance(cluster, Document)
    spec = cluster.spec_as(ClusterSpec)
    assert (spec.site, spec.mlps_level, spec.shared, spec.kube_context) == ("gz-dc", 3, True, None)
    with pytest.raises(TypeError):
        docs[0].spec_as(ClusterSpec)


def test_files_reference_each_other(write: Writer) -> None:
    clusters = write("clusters.yaml", CLUSTER % ("c2", 2))
    base = write("base.yaml", BASE)
    fleet = load_fleet([clusters, base])
    assert fleet.site_of("c2").name == "gz-dc"
    assert fleet.division_of("c2").name == "广州市"


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    errors = errors_of(tmp_path / "nope.yaml", tmp_path / "empty")
    assert [(e.file.name, e.index, e.message) for e in errors] == [
        ("nope.yaml", None, "no such file or directory"),
        ("empty", None, "directory holds no .yaml or .yml files"),
    ]
    assert str(errors[0]) == f"{tmp_path / 'nope.yaml'}: no such file or directory"


def test_yaml_syntax_error_keeps_earlier_documents(write: Writer) -> None:
    path = write(
        "f.yaml", with_base("apiVersion: tongchou.io/v1\nkind: Cluster\nspec: {site: [x\n")
    )
    [error] = errors_of(path)
    assert error.index == 6
    assert error.line is not None and error.line >= line_of(path, "spec: {site: [x")
    assert error.message.startswith("bad YAML: ")


def test_duplicate_key(write: Writer) -> None:
    path = write("f.yaml", with_base(CLUSTER % ("c2", 2) + "kind: Site\n"))
    error = only_error(path)
    assert (error.index, error.line) == (6, line_of(path, "kind: Site"))
    assert error.message == "duplicate key 'kind'"


def test_document_must_be_a_mapping(write: Writer) -> None:
    path = write("f.yaml", with_base("- just\n- a list\n"))
    error = only_error(path)
    assert (error.index, error.field, error.line) == (6, None, line_of(path, "- just"))
    assert error.message.startswith("a document must be a mapping")


def test_empty_documents_are_skipped_but_counted(write: Writer) -> None:
    path = write("f.yaml", "---\n---\n---\n" + CLUSTER % ("c2", 9))
    errors = errors_of(path)
    assert [(e.index, e.field) for e in errors] == [(3, "spec.mlpsLevel")]


def test_all_errors_are_reported_in_file_order(write: Writer) -> None:
    first = write("a.yaml", with_base(CLUSTER % ("c2", 7) + "---\n" + CLUSTER % ("C3", '"2"')))
    second = write("b.yaml", CLUSTER % ("c4", 0) + "---\nkind: Plann\n")
    with pytest.raises(LoadError) as caught:
        load_documents([first, second])
    found = [(e.file.name, e.index, e.field) for e in caught.value.errors]
    assert found == [
        ("a.yaml", 6, "spec.mlpsLevel"),
        ("a.yaml", 7, "metadata.name"),
        ("a.yaml", 7, "spec.mlpsLevel"),
        ("b.yaml", 1, "spec.mlpsLevel"),
        ("b.yaml", 2, "apiVersion"),
        ("b.yaml", 2, "kind"),
        ("b.yaml", 2, "metadata"),
    ]
    text = str(caught.value).splitlines()
    assert len(text) == 7
    line = line_of(first, "mlpsLevel: 7")
    assert (
        text[0] == f"{first}:{line}: document 6 (Cluster c2): spec.mlpsLevel: must be 1 to 4, got 7"
    )


def test_error_count_is_capped(write: Writer) -> None:
    text = "---\n".join(CLUSTER % (f"c{i}", 9) for i in range(150))
    with pytest.raises(LoadError) as caught:
        load_documents([write("many.yaml", text)])
    assert len(caught.value.errors) == MAX_ERRORS
    assert caught.value.errors[-1].index == MAX_ERRORS
    assert caught.value.omitted == 150 - MAX_ERRORS
    assert str(caught.value).endswith(f"... and {150 - MAX_ERRORS} more errors")


def test_references_of_a_document_with_errors_are_not_checked(write: Writer) -> None:
    path = write("f.yaml", with_base(CLUSTER.replace("gz-dc", "nowhere") % ("c2", 9)))
    assert only_error(path).field == "spec.mlpsLevel"


class _NoteSpec(SpecModel):
    text: Text


def test_a_new_kind_is_a_spec_model_and_a_converter(write: Writer) -> None:
    kind = Kind("TestNote", _NoteSpec, lambda doc: [doc.spec_as(_NoteSpec).text])
    register(kind)
    try:
        assert "TestNote" in known_kinds()
        path = write("n.yaml", NOTE % "{text: hi, x: 1}")
        error = only_error(path)
        assert (error.kind, error.field) == ("TestNote", "spec.x")
        path.write_text(NOTE % "{text: hi}")
        [doc] = load_documents([path])
        assert list(kind.convert(doc)) == ["hi"]
        assert load_fleet([path]).nodes == {}
    finally:
        unregister("TestNote")
    assert lookup("TestNote") is None
    with pytest.raises(ValueError, match="already registered"):
        register(Kind("Cluster", ClusterSpec, lambda doc: []))


def test_documents_find_their_lines_after_loading(write: Writer) -> None:
    path = write("f.yaml", BASE)
    cluster = load_documents([path])[-1]
    assert cluster.line_of(("spec", "mlpsLevel")) == line_of(path, "mlpsLevel: 3")
    assert cluster.line_of(("metadata", "name")) == line_of(path, "name: gz-gov")
