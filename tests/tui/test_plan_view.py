"""The Plan view beyond the report: resilience (N-1), showback per division, submitting the
plan's workloads to the hub and seeing what is pending, in English and Chinese."""

from __future__ import annotations

from pathlib import Path

import grpc
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from console.client import HubError
from console.tui.app import TongchouApp
from console.tui.panes.confirm import Confirm
from tests.tui.fake_hub import FakeHub, snapshot
from tests.tui.screen_text import screen_text as screen_rows
from tests.tui.test_app import until
from tests.tui.test_keys import shown
from tongchou.v1 import plans_pb2, security_pb2

SIZE = (160, 40)


def planning(tmp_path: Path) -> Path:
    folder = tmp_path / "planning"
    folder.mkdir()
    (folder / "demands.yaml").write_text("kind: Demand\n", encoding="utf-8")
    return folder


async def planned(pilot: Pilot[None], app: TongchouApp, folder: Path) -> None:
    await shown(pilot, app)
    await pilot.press("r", *str(folder), "enter")
    await until(pilot, lambda: bool(app.query_one("#plan").result_json), "the plan")  # type: ignore[attr-defined]


def screen_text(app: TongchouApp) -> str:
    return "\n".join(screen_rows(app))


def notices(app: TongchouApp) -> str:
    return "\n".join(n.message for n in app._notifications)


def asked(app: TongchouApp) -> str:
    """The question of the yes/no box on screen; empty when none is."""
    return app.screen.question if isinstance(app.screen, Confirm) else ""


def rows(app: TongchouApp, table: str) -> list[list[str]]:
    found = app.query_one(table, DataTable)
    return [[str(c) for c in found.get_row_at(i)] for i in range(found.row_count)]


async def test_resilience_showback_then_submit_and_see_what_is_pending(tmp_path: Path) -> None:
    hub = FakeHub([snapshot(12)])
    app = TongchouApp(hub, refresh_every=0.1, export_dir=tmp_path / "exports")
    async with app.run_test(size=SIZE) as pilot:
        await planned(pilot, app, planning(tmp_path))
        assert "u submits its 2 workloads" in screen_text(app)
        await pilot.press("v")
        assert app.focused is app.query_one("#plan-resilience")
        site, provider = rows(app, "#plan-resilience")
        assert site == ["Site gz-dc", "2", "2", "1", "no",
                        "city 24 cores / 96 GiB → 1 × kunpeng-2u"]  # fmt: skip
        assert provider[0] == "Provider on-prem" and provider[4:] == ["yes", "—"]
        detail = app.query_one("#plan-loss", Static)
        await until(pilot, lambda: "Demands hit" in str(detail.render()), "the first loss")
        assert str(detail.render()).splitlines() == [
            "Demands hit: e-seal-440106, portal-440305",
            "Absorbed: portal-440305 → sz-dc-a",
            "Earlier tenants: e-seal:440100",
        ]
        await pilot.press("down")
        await until(pilot, lambda: "cloud-a" in str(detail.render()), "the provider's loss")
        await pilot.press("v")
        assert app.focused is app.query_one("#plan-showback")
        showback = rows(app, "#plan-showback")
        assert showback[0] == ["440106 天河区", "¥0.12M", "¥1.60M", "¥1.48M"]
        assert showback[1][0] == "440305 南山区"
        assert showback[2][:2] == ["shared spare (bought where nothing is served)", "¥0"]
        await pilot.press("E")
        await until(pilot, lambda: any((tmp_path / "exports").glob("plan-*.csv")), "the CSV")
        (csv,) = (tmp_path / "exports").glob("plan-*.csv")
        assert "440106 天河区" in csv.read_text(encoding="utf-8")

        await pilot.press("u")
        await until(pilot, lambda: "Submit the 2 workloads of plan 7" in asked(app), "ask")
        await pilot.press("y")
        await until(pilot, lambda: hub.plans_submitted == [7], "the submission")
        table = app.query_one("#plan-pending", DataTable)
        await until(pilot, lambda: table.row_count == 2, "the submitted workloads")
        assert app.focused is table
        assert rows(app, "#plan-pending") == [
            ["e-seal-gz-dc-a", "0/3", "3", "0/4 clusters: 4 no room"],  # pending first
            ["e-seal-440106", "2/2", "0", "cluster-440106"],
        ]
        await until(pilot, lambda: "plan 7: 2 workloads submitted, 3 replicas pending" in
                    notices(app), "the notice")  # fmt: skip
        await pilot.press("v")  # back round to the report
        assert app.focused is app.query_one("#plan-scroll")


async def test_the_plan_views_in_chinese(tmp_path: Path) -> None:
    app = TongchouApp(FakeHub([snapshot(12)]), lang="zh", clock=False)
    async with app.run_test(size=SIZE) as pilot:
        await planned(pilot, app, planning(tmp_path))
        assert "按 u 把其 2 个工作负载提交到中枢" in screen_text(app)
        await pilot.press("v")
        await pilot.pause()
        text = screen_text(app)
        await until(pilot, lambda: "受影响需求：" in screen_text(app), "the loss's detail")
        for word in (
            "若失去",
            "其余可承接",
            "各层级缺口",
            "站点 gz-dc",
            "否",
            "市级 24 核 / 96 GiB → 1 × kunpeng-2u",
        ):
            assert word in text, word
        await pilot.press("v")
        await pilot.pause()
        assert "分摊费用" in screen_text(app) and "自建费用" in screen_text(app)
        await pilot.press("u")
        await until(pilot, lambda: "把规划 7 的 2 个工作负载提交到中枢" in asked(app), "ask")


class Viewer(FakeHub):
    """A hub whose user may read plans but not submit them."""

    async def whoami(self, timeout: float = 10.0) -> security_pb2.Principal:
        return security_pb2.Principal(
            name="li.na", roles=["viewer"],
            methods=["/tongchou.v1.PlanService/RunPlan"],
        )  # fmt: skip


async def test_a_user_without_the_right_cannot_submit_the_plan(tmp_path: Path) -> None:
    hub = Viewer([snapshot(12)])
    app = TongchouApp(hub, clock=False)
    async with app.run_test(size=SIZE) as pilot:
        await planned(pilot, app, planning(tmp_path))
        await until(pilot, lambda: app.allowed is not None, "the user's rights")
        await pilot.press("u")
        await pilot.pause()
        assert asked(app) == ""
        assert hub.plans_submitted == []


class Refusing(FakeHub):
    async def submit_plan(
        self, plan_id: int, timeout: float = 120.0
    ) -> plans_pb2.SubmitPlanResponse:
        self.plans_submitted.append(plan_id)
        raise HubError(
            grpc.StatusCode.FAILED_PRECONDITION,
            "plan 7 was not submitted: its workload names e-seal-440106 belong to workloads "
            "no plan submitted",
        )


async def test_a_refused_submission_says_why_and_shows_nothing_submitted(tmp_path: Path) -> None:
    hub = Refusing([snapshot(12)])
    app = TongchouApp(hub, clock=False)
    async with app.run_test(size=SIZE) as pilot:
        await planned(pilot, app, planning(tmp_path))
        await pilot.press("u", "y")
        await until(pilot, lambda: "belong to workloads" in notices(app), "the refusal")
        assert app.query_one("#plan-pending", DataTable).row_count == 0
        await pilot.press("v", "v", "v")  # report → resilience → showback → report
        assert app.focused is app.query_one("#plan-scroll")
