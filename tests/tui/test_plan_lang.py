"""The Plan view shows the plan's report, its reasons included, in the console's language."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from console.hub.api.messages import plan_result_message
from console.tui.app import TongchouApp
from tests.planner.test_rules import Room, demand, plan_of, platform, province
from tests.tui.fake_hub import FakeHub, snapshot
from tests.tui.test_app import SIZE, until


async def test_the_plan_report_follows_the_language(tmp_path: Path) -> None:
    plan = plan_of(
        province([Room("prov-dc", "440000", nodes=[(64, 0)]),
                  Room("tianhe-room", "440106", nodes=[(64, 0)])]),
        platform(build=0.0, instances=("prov-dc",)), [demand("440106"), demand("440100")],
    )  # fmt: skip
    folder = tmp_path / "planning"
    folder.mkdir()
    (folder / "demands.yaml").write_text("kind: Demand\n", encoding="utf-8")
    hub = FakeHub([snapshot(3)])
    hub.plan_result = plan_result_message(plan)
    hub.plan_result.id = 7
    app = TongchouApp(hub, lang="zh")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view.ready, "the snapshot")
        await pilot.press("r")
        await pilot.press(*str(folder))
        await pilot.press("enter")
        result = app.query_one("#plan-result", Static)
        await until(pilot, lambda: "项需求" in str(result.render()), "the plan in Chinese")
        shown = str(result.render())
        assert "成本相同，比 data-exchange@prov-dc" in shown and "求解器" in shown
        assert "equal cost" not in shown
        app.query_one("#plan-scroll").focus()
        await pilot.press("l")
        await until(pilot, lambda: "2 demands" in str(result.render()), "the plan in English")
        assert "equal cost, nearer than data-exchange@prov-dc" in str(result.render())
