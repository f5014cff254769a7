"""In Chinese the scheduler's reasons read in Chinese: the Workloads table, the explanation
and the overview's pending alerts (the hub sends them in English; names and numbers stay)."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from console.tui.app import TongchouApp
from tests.tui.fake_hub import FakeHub, snapshot
from tests.tui.test_app import until
from tests.tui.test_keys import shown
from tongchou.v1 import workloads_pb2

REASON = (
    "no cluster at MLPS level 4 exists (the highest with ready nodes is 3); "
    "0/4 clusters: 4 MLPS level below the workload's"
)
CHINESE = (
    "不存在等保 4 级的集群（有就绪节点的集群最高为 3 级）；"
    "0/4 个集群可用：4 个集群等保级别低于工作负载的级别"
)


async def test_a_pending_reason_in_chinese_everywhere_it_shows() -> None:
    hub = FakeHub([snapshot(4)])
    hub.statuses.append(
        workloads_pb2.WorkloadStatus(name="secret", replicas=2, pending=2, reason=REASON)
    )
    app = TongchouApp(hub, refresh_every=0.1, lang="zh")
    async with app.run_test(size=(200, 50)) as pilot:
        await shown(pilot, app)
        alerts = app.query_one("#alerts", Static)
        await until(pilot, lambda: CHINESE in str(alerts.render()), "the alert in Chinese")
        await pilot.press("w")
        table = app.query_one("#workload-table", DataTable)
        await until(pilot, lambda: table.row_count == 1, "the workload")
        assert str(table.get_row("secret")[3]) == CHINESE
        await pilot.press("l")  # English again: the hub's own words
        await until(pilot, lambda: str(table.get_row("secret")[3]) == REASON, "English")
