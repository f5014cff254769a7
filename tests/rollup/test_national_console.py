"""The national console: one row per province, a stale one shown with its age, Enter drills
into a province's divisions and Esc comes back."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from console.tui.national import NationalApp, age_text
from tongchou.v1 import rollup_pb2


class FakeNational:
    """A national hub's answers: Guangdong fresh, Guangxi quiet for 10 minutes."""

    address = "fake:7470"

    def __init__(self) -> None:
        cap = rollup_pb2.RollupCapacity(
            nodes=9, nodes_ready=9, cpu_cores=576, cpu_used_cores=144, domestic_cpu_cores=192,
            idle_cpu_cores=432, memory_bytes=9 * 256 * 2**30,
        )  # fmt: skip
        self.rows = [
            rollup_pb2.ProvinceRow(
                province="440000", name="广东省", capacity=cap, age_seconds=4, divisions=2
            ),
            rollup_pb2.ProvinceRow(
                province="450000",
                name="广西壮族自治区",
                capacity=cap,
                age_seconds=612,
                stale=True,
                divisions=1,
            ),
        ]
        self.divisions = [
            rollup_pb2.DivisionSummary(
                code="440100", name="广州市", level="city", capacity=cap,
                platforms=[rollup_pb2.PlatformTenancy(
                    platform="identity", display_name="统一身份认证", site="site-a",
                    tenants=["440000", "440100"],
                )],
            )
        ]  # fmt: skip

    async def provinces(self, timeout: float = 10.0) -> list[rollup_pb2.ProvinceRow]:
        return self.rows

    async def province(self, code: str, timeout: float = 10.0) -> rollup_pb2.ProvinceView:
        [row] = [r for r in self.rows if r.province == code]
        return rollup_pb2.ProvinceView(row=row, divisions=self.divisions)


def cells(table: DataTable[object]) -> list[str]:
    return [" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


def test_age_text() -> None:
    assert [age_text(s) for s in (42, 307, 11_520, 187_200)] == ["42s", "5m07s", "3h12m", "2d04h"]


async def test_provinces_stale_and_drill() -> None:
    app = NationalApp(FakeNational())
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        provinces = app.query_one("#provinces", DataTable)
        rows = cells(provinces)
        assert len(rows) == 2
        assert rows[0].startswith("440000 广东省 9/9 576") and rows[0].endswith("4s")
        assert "192 (33%)" in rows[0]  # 信创 cores and their share
        assert rows[1].endswith("stale · 10m12s")  # quiet: shown, with its age
        provinces.focus()
        await pilot.press("enter")
        await pilot.pause()
        divisions = app.query_one("#divisions", DataTable)
        assert divisions.display and not provinces.display
        [row] = cells(divisions)
        assert row.startswith("440100 广州市 city 9/9 576")
        assert row.endswith("统一身份认证 (2)")
        status = str(app.query_one("#national-status", Static).render())
        assert "440000 广东省 · 4s" in status
        await pilot.press("escape")
        await pilot.pause()
        assert provinces.display and not divisions.display


async def test_chinese_headings() -> None:
    app = NationalApp(FakeNational(), lang="zh")
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        table = app.query_one("#provinces", DataTable)
        assert [str(c.label) for c in table.columns.values()][:3] == ["省", "名称", "节点"]
        assert cells(table)[1].endswith("过期 · 10m12s")
