"""The planner's document kinds: the sample province's planning data, and precise errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from console.documents import (
    DocumentError,
    LoadError,
    PlanningInputError,
    load_documents,
    planning_input,
)
from console.model.planning import Amount, PlanningInput
from tests.samples import SAMPLE
from tongchou.divisions import Level, contains, level_of

ROOT = Path(__file__).resolve().parents[2]
PLANNING = SAMPLE / "planning"
GIB = 2**30

BASE = """\
apiVersion: tongchou.io/v1
kind: Division
metadata: {name: "440000"}
spec: {name: 广东省, level: province}
---
apiVersion: tongchou.io/v1
kind: Division
metadata: {name: "441400"}
spec: {name: 梅州市, level: city, parent: "440000"}
---
apiVersion: tongchou.io/v1
kind: Division
metadata: {name: "441422"}
spec: {name: 大埔县, level: county, parent: "441400"}
---
apiVersion: tongchou.io/v1
kind: Site
metadata: {name: gd-dc}
spec: {division: "440000", provider: tianyi-cloud}
---
apiVersion: tongchou.io/v1
kind: Platform
metadata: {name: video-conference}
spec:
  displayName: 视频会议
  baseResources: {cpu: "32", memory: 128Gi}
  perUnit: {cpu: "2", memory: 4Gi}
  buildCostCny: 1200000
  minLevel: county
  instances: [{site: gd-dc, tenants: ["440000"]}]
"""
"""Three divisions, a site and a platform: documents 1 to 5 of a file that starts with it."""

BASE_DOCUMENTS = 5

SKU = """\
apiVersion: tongchou.io/v1
kind: ServerSku
metadata: {name: %s}
spec:
  arch: aarch64
  chip: kunpeng-920
  domestic: %s
  capacity: {cpu: "128", memory: 512Gi}
  priceCny: 105000
  powerW: 650
"""


def sku(name: str = "kunpeng-920", domestic: str = "true") -> str:
    return SKU % (name, domestic)


def policy(name: str, share: float = 0.0) -> str:
    return (
        "apiVersion: tongchou.io/v1\nkind: PlanningPolicy\n"
        f"metadata: {{name: {name}}}\nspec:\n  domesticShareMin: {share}\n"
    )


def demand(
    units: str = "4", platform: str = "video-conference", extra: str = "", division: str = "441422"
) -> str:
    return (
        "apiVersion: tongchou.io/v1\nkind: Demand\nmetadata: {name: bad}\nspec:\n"
        f'  division: "{division}"\n  platform: {platform}\n  units: {units}\n{extra}'
    )


def platform(min_level: str = "city", site: str = "gd-dc", per_unit: str = "cpu: 250m") -> str:
    return (
        "apiVersion: tongchou.io/v1\nkind: Platform\nmetadata: {name: bad}\nspec:\n"
        "  displayName: 电子印章\n  baseResources: {cpu: 32, memory: 128Gi}\n"
        f"  perUnit: {{{per_unit}}}\n  buildCostCny: 1600000\n  minLevel: {min_level}\n"
        f'  instances:\n    - site: {site}\n      tenants: ["440000"]\n'
    )


def write(tmp_path: Path, name: str, *documents: str) -> Path:
    """A file under tmp_path holding `documents` (dedented), separated by `---`."""
    path = tmp_path / name
    path.write_text("---\n".join(textwrap.dedent(d) for d in documents), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    """The 1-based number of the last line in `path` that contains `needle`."""
    lines = [i for i, t in enumerate(path.read_text("utf-8").splitlines(), 1) if needle in t]
    assert lines, f"{needle!r} not found in {path}"
    return lines[-1]


def only_error(*paths: Path) -> DocumentError:
    with pytest.raises(LoadError) as caught:
        load_documents(list(paths))
    errors = caught.value.errors
    assert len(errors) == 1, "\n".join(map(str, errors))
    return errors[0]


# --- the sample province ------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> PlanningInput:
    return planning_input(load_documents([SAMPLE, PLANNING]))


def test_sample_platforms_have_instances_at_province_sites(sample: PlanningInput) -> None:
    assert len(sample.platforms) >= 6
    wanted = {"unified-identity", "e-seal", "e-licence", "data-exchange", "one-stop-portal"}
    assert wanted | {"video-conference"} <= set(sample.platforms)
    province_sites = {"gd-tianyi-gz", "gd-huawei-gz", "gd-tencent-gz", "gd-unicom-shaoguan"}
    for item in sample.platforms.values():
        assert item.instances, item.name
        assert any(i.site in province_sites for i in item.instances), item.name
        assert item.min_level in (Level.PROVINCE, Level.CITY, Level.COUNTY)
        assert 1_000_000 <= item.build_cost_cny <= 6_000_000
        assert 32_000 <= item.base.cpu_milli <= 128_000
        assert 128 * GIB <= item.base.memory_bytes <= 512 * GIB
        assert item.unit != "unit"
    identity = sample.platforms["unified-identity"]
    assert identity.display_name == "统一身份认证"
    assert identity.base == Amount(64_000, 256 * GIB)
    assert identity.per_unit == Amount(800, 2 * 2**30)
    assert "440000" in identity.instances[0].tenants


def test_sample_demands_cover_cities_and_counties(sample: PlanningInput) -> None:
    levels: dict[Level, set[str]] = {}
    for item in sample.demands.values():
        levels.setdefault(level_of(item.division), set()).add(item.division)
        assert item.platform in sample.platforms
        assert item.units > 0
        if item.residency is not None:
            assert contains(item.residency, item.division)
    assert len(levels[Level.CITY]) >= 6
    assert len(levels[Level.COUNTY]) >= 15
    per_division = Counter(d.division for d in sample.demands.values())
    assert all(2 <= per_division[c] <= 5 for c in levels[Level.CITY])
    assert any(d.residency is not None for d in sample.demands.values())
    dabu = sample.demands["441422-video-conference"]
    assert dabu.latency_max_ms == 5


def test_sample_skus_and_policy(sample: PlanningInput) -> None:
    chips = {s.chip: s for s in sample.skus.values()}
    for chip in ("intel-xeon-6330", "hygon-7380", "kunpeng-920", "phytium-s2500"):
        assert chip in chips
    assert not chips["intel-xeon-6330"].domestic
    assert all(chips[c].domestic for c in ("hygon-7380", "kunpeng-920", "phytium-s2500"))
    assert chips["kunpeng-920"].cpu_performance == pytest.approx(0.85)
    assert chips["kunpeng-920"].capacity == Amount(128_000, 512 * GIB)
    for item in sample.skus.values():
        assert 70_000 <= item.price_cny <= 130_000
        assert 450 <= item.power_w <= 900
    assert sample.policy.name == "guangdong"
    assert sample.policy.target_utilization == 0.7
    assert sample.policy.domestic_share_min == 0.5
    assert sample.policy.horizon_years == 5
    assert sample.policy.growth_per_year == 0.2
    assert sample.policy.redundancy == "n+1"


def test_planning_input_ignores_other_kinds_and_defaults_the_policy(tmp_path: Path) -> None:
    result = planning_input(load_documents([write(tmp_path, "a.yaml", BASE)]))
    assert list(result.platforms) == ["video-conference"]
    assert not result.demands and not result.skus
    assert result.policy.name == "default"


def test_demands_without_any_sku_are_allowed(tmp_path: Path) -> None:
    text = BASE + "---\n" + demand().replace("name: bad", "name: ok")
    result = planning_input(load_documents([write(tmp_path, "a.yaml", text)]))
    assert result.demands["ok"].units == 4
    assert not result.skus


# --- errors in one document ---------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """Document 6 (after BASE), the one error it must cause, and where."""

    id: str
    text: str
    needle: str
    field: str
    message: str
    kind: str


CASES = [
    Case(
        "unknown-platform",
        demand(platform="video-conferance"),
        "platform: video-conferance",
        "spec.platform",
        'Platform "video-conferance" is not declared; did you mean "video-conference"?',
        "Demand",
    ),
    Case(
        "negative-units",
        demand(units="-3"),
        "units: -3",
        "spec.units",
        "must be more than 0, got -3",
        "Demand",
    ),
    Case(
        "zero-units",
        demand(units="0"),
        "units: 0",
        "spec.units",
        "must be more than 0, got 0",
        "Demand",
    ),
    Case(
        "residency-elsewhere",
        demand(division="440000", extra='  residency: "441400"\n'),
        "residency:",
        "spec.residency",
        "441400 does not contain the demand's division 440000",
        "Demand",
    ),
    Case(
        "sku-without-price",
        sku("bad").replace("  priceCny: 105000\n", ""),
        "spec:",
        "spec.priceCny",
        "required field is missing",
        "ServerSku",
    ),
    Case(
        "sku-domestic-string",
        sku("bad", '"yes"'),
        "domestic:",
        "spec.domestic",
        'must be true or false, got "yes"',
        "ServerSku",
    ),
    Case(
        "min-level-misspelt",
        platform(min_level="contry"),
        "minLevel: contry",
        "spec.minLevel",
        'must be one of province, city, county or township, got "contry"',
        "Platform",
    ),
    Case(
        "undeclared-site",
        platform(site="gd-dcc"),
        "site: gd-dcc",
        "spec.instances[0].site",
        'Site "gd-dcc" is not declared; did you mean "gd-dc"?',
        "Platform",
    ),
    Case(
        "per-unit-zero",
        platform(per_unit="cpu: 0, memory: 0Gi"),
        "perUnit:",
        "spec.perUnit",
        "cpu and memory are both 0: give what one unit adds",
        "Platform",
    ),
    Case(
        "unknown-field",
        platform().replace("  minLevel", "  units: 10,000 accounts\n  minLevel"),
        "units:",
        "spec.units",
        'unknown field "units"; did you mean "unit"?',
        "Platform",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_document_names_file_line_document_and_field(tmp_path: Path, case: Case) -> None:
    path = write(tmp_path, "bad.yaml", BASE, case.text)
    error = only_error(path)
    if case.id == "sku-without-price":  # a missing field is reported at its parent's key
        assert error.line == line_of(path, "spec:")
    else:
        assert error.line == line_of(path, case.needle)
    assert (error.file, error.index, error.kind, error.name) == (
        path,
        BASE_DOCUMENTS + 1,
        case.kind,
        "bad",
    )
    assert error.field == case.field
    assert case.message in error.message
    assert str(error).startswith(f"{path}:{error.line}: document 6 ({case.kind} bad): ")


# --- errors across documents --------------------------------------------------------------


def test_two_planning_policies_name_both(tmp_path: Path) -> None:
    first = write(tmp_path, "policy.yaml", policy("first"))
    second = write(tmp_path, "more.yaml", BASE, policy("second"))
    with pytest.raises(PlanningInputError) as caught:
        planning_input(load_documents([first, second]))
    (error,) = caught.value.errors
    assert (error.file, error.index, error.kind, error.name) == (
        second,
        6,
        "PlanningPolicy",
        "second",
    )
    assert error.field == "metadata.name"
    assert error.line == line_of(second, "name: second")
    assert f'"first" is declared at {first}:3 (document 1)' in error.message
    assert isinstance(caught.value, ValueError)
    assert str(second) in str(caught.value) and str(first) in str(caught.value)


def test_domestic_share_without_domestic_sku(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", BASE, sku("intel", "false"), policy("gd", 0.6))
    with pytest.raises(PlanningInputError) as caught:
        planning_input(load_documents([path]))
    (error,) = caught.value.errors
    assert (error.file, error.index, error.kind, error.name) == (path, 7, "PlanningPolicy", "gd")
    assert error.field == "spec.domesticShareMin"
    assert error.line == line_of(path, "domesticShareMin")
    assert error.message == (
        "domesticShareMin is 0.6 but no ServerSku is domestic: the share cannot be met"
    )


def test_domestic_share_met_by_one_domestic_sku(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", BASE, sku("intel", "false"), sku(), policy("gd", 0.6))
    result = planning_input(load_documents([path]))
    assert result.policy.domestic_share_min == 0.6
    assert result.skus["kunpeng-920"].domestic


# --- the command line ---------------------------------------------------------------------


def _validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tongchou", "validate", *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_validate_accepts_the_sample() -> None:
    done = _validate(Path("examples/guangdong"), Path("examples/guangdong/planning"))
    assert done.returncode == 0, done.stderr
    assert "Demand" in done.stdout and "ServerSku" in done.stdout


def test_validate_rejects_a_bad_planning_file(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", BASE, demand(units="-3"))
    done = _validate(path)
    assert done.returncode == 2
    line = line_of(path, "units: -3")
    assert f"{path}:{line}: document 6 (Demand bad): spec.units: must be more than 0" in done.stderr
