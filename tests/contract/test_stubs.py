"""The generated stubs in tongchou/v1 are exactly what protos/ generates today."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STUBS = ROOT / "tongchou" / "v1"


def _generator() -> object:
    spec = importlib.util.spec_from_file_location("gen_protos", ROOT / "scripts" / "gen_protos.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_stubs_are_fresh(tmp_path: Path) -> None:
    pytest.importorskip("grpc_tools")
    gen = _generator()
    gen.generate(tmp_path)  # type: ignore[attr-defined]
    fresh = {
        p.name: p.read_bytes() for p in (tmp_path / "tongchou" / "v1").iterdir() if p.is_file()
    }
    committed = {p.name: p.read_bytes() for p in STUBS.iterdir() if p.is_file()}
    assert sorted(fresh) == sorted(committed), "stub files differ: run make protos"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"stale generated stubs {stale}: run make protos"


def test_every_proto_declares_the_versioned_package() -> None:
    for proto in (ROOT / "protos").rglob("*.proto"):
        text = proto.read_text(encoding="utf-8")
        assert "package tongchou.v1;" in text, proto
        assert proto.parent == ROOT / "protos" / "tongchou" / "v1", proto
