"""Every hostile input through `tongchou validate`, `policy check` and `schedule`: exit 2
with a located message, never a traceback, never a hang."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tongchou.cli import main

from .corpus import CORPUS, Bad, laughs

ROOT = Path(__file__).resolve().parents[2]
FLEET = ROOT / "examples" / "guangdong"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    out, err = capsys.readouterr()
    code = done.value.code
    return code if isinstance(code, int) else 1, out, err


@pytest.mark.parametrize("bad", CORPUS, ids=[b.id for b in CORPUS])
def test_validate_refuses_with_a_located_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: Bad
) -> None:
    path = tmp_path / f"{bad.id}.yaml"
    path.write_bytes(bad.data)
    code, out, err = run(capsys, "validate", str(path))
    assert code == 2, out + err
    assert err.startswith(str(path)), err
    assert bad.expect in err
    assert "Traceback" not in err
    assert "function-after" not in err and "is a int" not in err


@pytest.mark.parametrize("bad", CORPUS, ids=[b.id for b in CORPUS])
def test_validate_json_lists_the_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: Bad
) -> None:
    path = tmp_path / f"{bad.id}.yaml"
    path.write_bytes(bad.data)
    code, out, _ = run(capsys, "validate", "-o", "json", str(path))
    assert code == 2
    result = json.loads(out)
    assert result["valid"] is False
    assert result["errors"], out
    first = result["errors"][0]
    assert set(first) == {"file", "line", "document", "kind", "name", "field", "message"}
    assert first["file"] == str(path)
    assert any(bad.expect in e["message"] for e in result["errors"])


@pytest.mark.parametrize("bad", CORPUS, ids=[b.id for b in CORPUS])
def test_policy_check_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: Bad) -> None:
    path = tmp_path / f"{bad.id}.yaml"
    path.write_bytes(bad.data)
    code, out, err = run(capsys, "policy", "check", str(path))
    assert code == 2, out + err
    assert "Traceback" not in err
    assert bad.expect in err


POISON = [b for b in CORPUS if b.id in ("memory-16Ei", "cpu-1e20", "owner-unknown", "date-field")]


@pytest.mark.parametrize("bad", POISON, ids=[b.id for b in POISON])
def test_schedule_refuses_poison_workloads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: Bad
) -> None:
    path = tmp_path / f"{bad.id}.yaml"
    path.write_bytes(bad.data)
    code, out, err = run(
        capsys,
        "schedule",
        "--fleet",
        str(FLEET),
        "--workloads",
        str(path),
        "--policies",
        str(ROOT / "policies"),
    )
    assert code == 2, out + err
    assert err.startswith(str(path)), err
    assert bad.expect in err


def test_an_alias_bomb_returns_at_once_from_a_real_process(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(laughs(9), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "tongchou", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert f"{path}:6: document 1 (Workload bomb)" in done.stderr or "after aliases" in done.stderr
    assert "after aliases are expanded" in done.stderr
