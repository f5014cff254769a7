"""The Workloads view shows desired vs ready per cluster when the hub runs the executor."""

from __future__ import annotations

from textual.widgets import DataTable

from console.tui.app import TongchouApp
from tests.tui.fake_hub import FakeHub, snapshot
from tests.tui.test_app import SIZE, until
from tongchou.v1 import workloads_pb2


async def test_ready_replicas_and_cluster_trouble_per_cluster() -> None:
    hub = FakeHub([snapshot(12)])
    hub.statuses = [
        workloads_pb2.WorkloadStatus(
            name="gd-e-seal", replicas=6, generation=3,
            placed=[
                workloads_pb2.ClusterReplicas(
                    cluster="gz-a", replicas=4, ready=4, health="available"
                ),
                workloads_pb2.ClusterReplicas(
                    cluster="sz-b", replicas=2, ready=0,
                    health="available; API failing (1): unreachable: refused",
                ),
            ],
        ),
        workloads_pb2.WorkloadStatus(
            name="no-executor", replicas=1,
            placed=[workloads_pb2.ClusterReplicas(cluster="gz-a", replicas=1)],
        ),
    ]  # fmt: skip
    app = TongchouApp(hub, refresh_every=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view.ready, "the snapshot")
        await pilot.press("w")
        table = app.query_one("#workload-table", DataTable)
        await until(pilot, lambda: table.row_count == 2, "the workloads")
        assert table.get_row("gd-e-seal")[3] == (
            "gz-a×4 (4 ready), sz-b×2 (0 ready; available; API failing (1): unreachable: refused)"
        )
        assert table.get_row("no-executor")[3] == "gz-a×1"
