"""A plan carried out from the hub: a planner runs it, reads its resilience and showback, and
submits its workloads (audited); other roles and scoped users may not; a plan never takes
over a workload it did not submit."""

from __future__ import annotations

import json

import grpc
import pytest

from console.store.credentials import User
from tests.e2e.conftest import ROOT

from .test_authz import Api, api, code_of, workload

__all__ = ["api"]  # the fixture
PLANNING = ROOT / "examples" / "guangdong" / "planning"


def records(api: Api) -> list[tuple[str, str, str, str]]:
    assert api.hub.audit is not None
    api.hub.audit_flush()
    return [(r.actor, r.action, r.object, r.outcome) for r in api.hub.audit.records()]


@pytest.mark.slow
async def test_a_planner_submits_a_plan_and_sees_what_is_pending(api: Api) -> None:
    assert api.hub.credentials is not None
    api.tokens["planner"] = api.hub.credentials.add_user(User("planner", ("planner",), ""))
    planner = api.client("planner")
    documents = "\n---\n".join(
        p.read_text(encoding="utf-8") for p in sorted(PLANNING.glob("*.yaml"))
    )
    events = [e async for e in planner.run_plan(documents, time_limit=20, gap=0.01)]
    result = events[-1].result
    assert result.unsubmittable == ""
    plan = json.loads(result.json)
    served = [d["demand"] for d in plan["decisions"] if d["action"] in ("reuse", "build")]
    assert set(served) <= set(result.workloads)  # a workload per served demand, and builds
    assert len(result.workloads) > len(served) or "build" not in {
        d["action"] for d in plan["decisions"]
    }
    resilience = json.loads(result.resilience_json)
    assert resilience["kind"] == "Resilience" and resilience["losses"]
    assert {x["kind"] for x in resilience["losses"]} >= {"site", "provider"}
    showback = json.loads(result.showback_json)
    assert showback["kind"] == "Showback"
    assert set(showback["byDivision"]) == {r["division"] for r in showback["rows"]}
    assert "shared spare" in result.showback_table
    (brief,) = await planner.plans()
    assert (brief.resilience_json, brief.showback_json, list(brief.workloads)) == ("", "", [])

    # neither an operator of a county nor a plain viewer may submit a plan
    for user in ("county-op", "county-viewer"):
        denied = api.client(user).submit_plan(result.id)
        assert await code_of(denied) == grpc.StatusCode.PERMISSION_DENIED

    answer = await planner.submit_plan(result.id)
    names = [w.name for w in answer.workloads]
    assert names == sorted(result.workloads)
    assert answer.pending_replicas == sum(w.pending for w in answer.workloads)
    # two nodes report: what the plan places on the servers it buys waits for them
    assert answer.pending_replicas > 0
    assert all(w.reason for w in answer.workloads if w.pending)
    assert any(w.placed for w in answer.workloads)
    listed = {w.name: w for w in await planner.workloads()}
    assert set(names) <= set(listed)
    assert all(listed[n].pending == w.pending for n, w in zip(names, answer.workloads, strict=True))
    assert ("user:planner", "plan.submit", f"plan/{result.id}", "ok") in records(api)
    # submitting again replaces the plan's own workloads
    again = await planner.submit_plan(result.id)
    assert [w.name for w in again.workloads] == names

    # a workload the plan did not submit is never replaced by it
    province = api.client("province-op")
    await province.submit_workload(workload(names[0], "440000"))
    with pytest.raises(grpc.aio.AioRpcError) as taken:
        await planner.submit_plan(result.id)
    assert taken.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"names {names[0]}" in (taken.value.details() or "")
    assert await code_of(planner.submit_plan(999)) == grpc.StatusCode.NOT_FOUND
