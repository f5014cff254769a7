"""Every refusal a division-scoped user can provoke, walked against a real mutual-TLS hub: none
names another division's nodes, sites, clusters, workloads or owners beyond what the caller
itself asked for, and what lies outside the scope gets the answer of what does not exist."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import pytest

from console.client import HubClient
from console.store.credentials import User

from . import test_authz
from .test_authz import Api, workload

api = test_authz.api  # the mutual-TLS hub with its users, shared with the guard's tests

ABSENT_DIVISION = "440105"  # a real county code (海珠区) the sample fleet does not hold
OTHERS = (  # what belongs to other divisions than the caller's 440106
    "440104", "440100", "440000", "yuexiu", "gz-portal", "gz-huawei", "gd-", "越秀", "广州",
    "广东",
)  # fmt: skip


async def _refusal(call: Awaitable[Any] | AsyncIterator[Any]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        if isinstance(call, AsyncIterator):
            await anext(call)
        else:
            await call
    code = err.value.code()
    assert code is not None
    return code, err.value.details() or ""


def _leaks(text: str, asked: str) -> list[str]:
    """The other divisions' names in a refusal, once the caller's own words are taken out."""
    rest = text.replace(asked, "«asked»")
    return [name for name in OTHERS if name in rest]


def _plan(division: str, residency: str = "") -> str:
    where = f', residency: "{residency}"' if residency else ""
    return (
        "apiVersion: tongchou.io/v1\nkind: Demand\nmetadata: {name: d1}\n"
        f'spec: {{division: "{division}", platform: e-seal, units: 10{where}}}\n'
    )


def _resident(name: str, residency: str) -> str:
    """A workload of the caller's own division that must stay inside `residency`."""
    text = workload(name, "440106")
    return text.replace("mlpsLevel: 2}", f'mlpsLevel: 2, residency: "{residency}"}}')


Call = Callable[[HubClient, str], Awaitable[Any] | AsyncIterator[Any]]
PAIRS: dict[str, tuple[Call, str, str]] = {
    # what: (the call, another division's thing, a thing that does not exist)
    "GetNode": (lambda c, x: c.node(x), "yuexiu-01", "no-such-node"),
    "GetWorkload": (lambda c, x: c.workload(x), "yuexiu-app", "no-such-app"),
    "ExplainWorkload": (lambda c, x: c.explain(x), "yuexiu-app", "no-such-app"),
    "DeleteWorkload": (lambda c, x: c.delete_workload(x), "yuexiu-app", "no-such-app"),
    "GetSite": (lambda c, x: c.site(x), "yuexiu-dc", "no-such-dc"),
    "GetCluster": (lambda c, x: c.cluster(x), "yuexiu-gov", "no-such-gov"),
    "GetDivision": (lambda c, x: c.division(x), "440104", ABSENT_DIVISION),
    "ListNodes": (lambda c, x: c.nodes(division=x), "440104", ABSENT_DIVISION),
    "Watch": (lambda c, x: c.watch(x), "440104", ABSENT_DIVISION),
    "ListDivisions": (lambda c, x: c.divisions(x), "440104", ABSENT_DIVISION),
    "ListSites": (lambda c, x: c.sites(x), "440104", ABSENT_DIVISION),
    "ListClusters": (lambda c, x: c.clusters(x), "440104", ABSENT_DIVISION),
    "SubmitWorkload": (
        lambda c, x: c.submit_workload(workload("county-app", x)),
        "440104",
        ABSENT_DIVISION,
    ),
    "SubmitWorkload residency": (
        lambda c, x: c.submit_workload(_resident("county-app", x)),
        "440104",
        ABSENT_DIVISION,
    ),
    "RunPlan": (lambda c, x: c.run_plan(_plan(x)), "440104", ABSENT_DIVISION),
    "RunPlan residency": (
        lambda c, x: c.run_plan(_plan("440106", residency=x)),
        "440104",
        ABSENT_DIVISION,
    ),
}
NOT_FOUND = {"GetNode", "GetWorkload", "ExplainWorkload", "DeleteWorkload", "GetSite",
             "GetCluster", "GetDivision"}  # fmt: skip
"""What is asked for by name; the listings and submissions are refused as outside the scope."""
WRITES = {"DeleteWorkload", "SubmitWorkload", "SubmitWorkload residency", "RunPlan",
          "RunPlan residency"}  # fmt: skip
"""What a viewer's role may not do at all: refused alike, before any scope."""


@pytest.mark.parametrize("user", ["county-planner", "county-viewer"])
async def test_another_divisions_things_and_absent_ones_get_one_answer(api: Api, user: str) -> None:
    assert api.hub.credentials is not None
    planner = User("county-planner", ("operator", "planner"), "440106")
    api.tokens[planner.name] = api.hub.credentials.add_user(planner)
    province = api.client("province-op")
    await province.submit_workload(workload("yuexiu-app", "440104"))
    await province.submit_workload(workload("gz-portal", "440100"))
    county = api.client(user)
    answers = {}
    for method, (call, theirs, absent) in PAIRS.items():
        other = await _refusal(call(county, theirs))
        none = await _refusal(call(county, absent))
        answers[method] = (other[0], other[1].replace(theirs, "X"))
        assert answers[method] == (none[0], none[1].replace(absent, "X")), method
        assert _leaks(other[1], theirs) == [], (method, other[1])
    viewer = user == "county-viewer"
    expected = {
        m: grpc.StatusCode.NOT_FOUND
        if m in NOT_FOUND and not (viewer and m in WRITES)
        else grpc.StatusCode.PERMISSION_DENIED
        for m in PAIRS
    }
    if not viewer:  # a demand's residency must hold its own division, whoever holds the other
        expected["RunPlan residency"] = grpc.StatusCode.INVALID_ARGUMENT
    assert {m: code for m, (code, _text) in answers.items()} == expected
    if not viewer:  # a residency above the caller's own division is its to choose
        await county.submit_workload(_resident("county-app", "440000"))


async def test_the_refusals_that_cannot_hide_a_name_still_hide_its_owner(api: Api) -> None:
    province = api.client("province-op")
    await province.submit_workload(workload("yuexiu-app", "440104"))
    county = api.client("county-op")
    refusals = {
        # names are one namespace: a taken name is refused, its owner is not told
        "taken name": (
            await _refusal(county.submit_workload(workload("yuexiu-app", "440106"))),
            "yuexiu-app",
        ),
        # a plan covers every division's demands: refused to every scoped user alike
        "ListPlans": (await _refusal(county.plans()), ""),
        "GetPlan": (await _refusal(county.plan(1)), ""),
    }
    for what, ((_code, text), asked) in refusals.items():
        assert _leaks(text, asked or "\0") == [], (what, text)
