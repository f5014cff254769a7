"""A province's division summary from node entries, and the national hub's checks of one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from console.hub.fleet.inventory import NodeEntry
from console.hub.rollup import national, summary
from console.model.fleet import Division
from console.model.inventory import NodeState
from console.model.planning import Amount, Platform, PlatformInstance
from tongchou.divisions import Level
from tongchou.v1 import agent_pb2, common_pb2, rollup_pb2
from tongchou.xinchuang import is_domestic

GIB = 2**30
GD = summary.Province("440000", "广东省")


def entry(
    name: str, division: str, state: NodeState = NodeState.READY, chip: str = "", arch: str = ""
) -> NodeEntry:
    rep = agent_pb2.NodeReport(
        identity=common_pb2.NodeIdentity(
            node=name, division=division, level=common_pb2.LEVEL_COUNTY, site="dc1",
            arch=arch or "x86_64", chip=chip,
        ),
        capacity=common_pb2.Capacity(cpu_logical=10, memory_bytes=16 * GIB),
        usage=common_pb2.Usage(cpu_ratio=0.25, memory_used_bytes=4 * GIB),
    )  # fmt: skip
    return NodeEntry(name, rep, state, 0.0, 0.0, 10.0)


DIVISIONS = {
    "440000": Division("440000", "广东省", Level.PROVINCE, None),
    "440100": Division("440100", "广州市", Level.CITY, "440000"),
    "450000": Division("450000", "广西壮族自治区", Level.PROVINCE, None),
}


def test_domestic_chips() -> None:
    """The one rule (tongchou.xinchuang) the roll-up, the situation view and the report use."""
    assert is_domestic("aarch64", "kunpeng-920")
    assert is_domestic("x86_64", "Hygon-7380")
    assert is_domestic("loongarch64", "")
    assert is_domestic("sw_64", "")
    assert not is_domestic("x86_64", "xeon-6330")
    assert not is_domestic("aarch64", "ampere-altra")


def test_divisions_add_up_and_carry_no_node_data() -> None:
    entries = [
        entry("n1", "440106", chip="kunpeng-920", arch="aarch64"),
        entry("n2", "440106", chip="xeon-6330"),
        entry("n3", "440106", NodeState.STALE, chip="hygon-7380"),
        entry("n4", "440106", NodeState.LOST, chip="xeon-6330"),
        entry("n5", "450100"),  # another province's node: not reported
    ]
    identity = Platform(
        "identity", "统一身份认证", Amount(8000, 32 * GIB), Amount(1000, 2 * GIB), 1e6,
        Level.CITY, instances=(PlatformInstance("dc1", ("440106", "440100")),),
    )  # fmt: skip
    catalog = summary.Catalog(DIVISIONS, {"dc1": "440100"}, {"identity": identity})
    s = summary.build(GD, entries, catalog, sequence=3, run_id="r", now=1_750_000_000.0)
    assert (s.province, s.name, s.sequence) == ("440000", "广东省", 3)
    rows = {d.code: d for d in s.divisions}
    assert set(rows) == {"440000", "440100", "440106"}  # declared, or reported from
    county = rows["440106"].capacity
    assert (county.nodes, county.nodes_ready) == (4, 2)
    assert county.cpu_cores == 40
    assert county.cpu_used_cores == pytest.approx(7.5)  # the lost node's usage is not counted
    assert county.idle_cpu_cores == pytest.approx(15.0)  # ready nodes only
    assert county.domestic_cpu_cores == 20  # Kunpeng and Hygon
    assert county.memory_used_bytes == 12 * GIB
    assert rows["440106"].level == "county"  # from the reports: not declared
    assert rows["440100"].name == "广州市"
    [tenancy] = rows["440100"].platforms
    assert (tenancy.display_name, list(tenancy.tenants)) == ("统一身份认证", ["440100", "440106"])
    assert s.capacity == county  # the only division with nodes
    assert b"n1" not in s.SerializeToString()


def test_the_province_is_given_or_found() -> None:
    assert summary.province_of({"440000": DIVISIONS["440000"]}) == GD
    assert summary.province_of(DIVISIONS, "440000") == GD
    with pytest.raises(ValueError, match="found 440000, 450000"):
        summary.province_of(DIVISIONS)
    with pytest.raises(ValueError, match="440100 is a city code"):
        summary.province_of(DIVISIONS, "440100")


@pytest.mark.parametrize(
    ("message", "caller", "code", "says"),
    [
        (rollup_pb2.ProvinceSummary(province="44"), None, "INVALID_ARGUMENT", "province: '44'"),
        (rollup_pb2.ProvinceSummary(province="440100"), None, "INVALID_ARGUMENT", "city code"),
        (
            rollup_pb2.ProvinceSummary(
                province="440000", divisions=[rollup_pb2.DivisionSummary(code="450100")]
            ),
            None,
            "INVALID_ARGUMENT",
            "divisions[0].code: '450100' is not a division inside 440000",
        ),
        (
            rollup_pb2.ProvinceSummary(province="440000"),
            ("hub", "440000"),
            "PERMISSION_DENIED",
            "hub:440000 may not report for province 440000",
        ),
    ],
)
def test_the_national_hub_refuses(
    message: rollup_pb2.ProvinceSummary, caller: tuple[str, str] | None, code: str, says: str
) -> None:
    with pytest.raises(national.SummaryRefused) as refused:
        national.check(message, caller)
    assert refused.value.code == getattr(grpc.StatusCode, code)
    assert says in str(refused.value)


def test_a_good_summary_passes() -> None:
    good = rollup_pb2.ProvinceSummary(
        province="440000", divisions=[rollup_pb2.DivisionSummary(code="440106001")]
    )
    national.check(good, ("province", "440000"))
    national.check(good, None)  # plaintext: the hub warned at start


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--upstream", "nat:7470", "--province", "440000"], "--upstream needs --upstream-tls-ca"),
        (["--upstream", "nat"], "must be host:port"),
        (["--province", "440000"], "need --upstream HOST:PORT"),
        (["--upstream", "nat:7470", "--upstream-insecure"], "one province-level Division"),
        (
            ["--upstream", "nat:7470", "--upstream-insecure", "--province", "4401"],
            "--province: '4401' is not a division code",
        ),
        (["--national", "--stale-after", "soon"], "--stale-after"),
    ],
)
def test_bad_roll_up_flags_exit_2(tmp_path: Path, flags: list[str], says: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tongchou", "hub", "--insecure", "--store",
         str(tmp_path / "hub.db"), *flags],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert says in done.stderr
