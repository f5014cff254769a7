"""The planner in a running hub: plans the sample's demands on the live inventory, streaming."""

from __future__ import annotations

import json

import grpc
import pytest

from console.client import HubClient
from tests.e2e.conftest import ROOT, SAMPLE, Launcher
from tests.e2e.waiting import eventually

pytestmark = pytest.mark.slow
PLANNING = ROOT / "examples" / "guangdong" / "planning"


async def test_run_plan_streams_and_answers_with_the_plan(launch: Launcher) -> None:
    hub = launch.hub("--fleet", str(SAMPLE))
    launch.spawn("simulate", "simulate", "--fleet", str(SAMPLE), "--hub", hub.address,
                 "--limit", "400")  # fmt: skip
    documents = "\n---\n".join(
        p.read_text(encoding="utf-8") for p in sorted(PLANNING.glob("*.yaml"))
    )
    async with HubClient(hub.address) as client:

        async def nodes() -> int | None:
            summary = await client.fleet_summary()
            return summary.totals.nodes_ready if summary.totals.nodes_ready >= 400 else None

        await eventually(nodes, timeout=30, what="the simulated nodes")
        events = [event async for event in client.run_plan(documents, time_limit=20)]
        assert events[-1].WhichOneof("event") == "result"
        plan = json.loads(events[-1].result.json)
        assert plan["kind"] == "Plan"
        assert len(plan["decisions"]) == 94
        actions = {d["action"] for d in plan["decisions"]}
        assert "reuse" in actions
        assert plan["solver"]["name"] == "HiGHS"
        assert "SOLVER" in events[-1].result.table
        result = events[-1].result
        assert result.id == 1 and result.demands == 94
        assert result.savings_cny == plan["savingsCny"]
        assert result.total_cost_cny == plan["cost"]["totalCny"]
        (listed,) = await client.plans()
        assert (listed.id, listed.json, listed.savings_cny) == (1, "", plan["savingsCny"])
        assert (await client.plan(1)).json == result.json
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await client.plan(2)
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND

        with pytest.raises(grpc.aio.AioRpcError) as bad:
            async for _ in client.run_plan(documents.replace("units: ", "units: -", 1)):
                pass
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "spec.units: must be more than 0" in (bad.value.details() or "")
