"""The failover rules: grace, consecutive API failures, hysteresis on the way back."""

from __future__ import annotations

import pytest

from console.executor.failover import FailoverPolicy, HealthTracker, MoveBack


def test_agents_lost_beyond_the_grace_period() -> None:
    t = HealthTracker(FailoverPolicy(agent_grace=10, recover_after=30))
    t.observe_agents("gz", known=3, live=0, now=100)
    assert t.evaluate(105) == []
    t.observe_agents("gz", known=3, live=0, now=108)  # still lost: the clock runs from 100
    (down,) = t.evaluate(110)
    assert (down.cluster, down.available) == ("gz", False)
    assert down.reason == "all agents lost for 10s"
    assert t.unavailable() == {"gz": "all agents lost for 10s"}


def test_one_agent_coming_back_within_the_grace_resets_it() -> None:
    t = HealthTracker(FailoverPolicy(agent_grace=10))
    t.observe_agents("gz", known=3, live=0, now=100)
    t.observe_agents("gz", known=3, live=1, now=105)
    t.observe_agents("gz", known=3, live=0, now=106)
    assert t.evaluate(112) == []
    assert len(t.evaluate(116)) == 1


def test_api_failures_in_a_row() -> None:
    t = HealthTracker(FailoverPolicy(api_failures=3))
    for ok in (False, False, True, False, False):
        t.observe_api("sz", ok=ok, error="refused")
        assert t.evaluate(0) == []
    assert t.health("sz").describe() == "available; API failing (2): refused"
    t.observe_api("sz", ok=False, error="refused")
    (down,) = t.evaluate(0)
    assert down.reason == "Kubernetes API failed 3 checks in a row: refused"


def test_hysteresis_holds_a_flapping_cluster_out() -> None:
    t = HealthTracker(FailoverPolicy(api_failures=1, recover_after=30))
    t.observe_api("sz", ok=False, error="timeout")
    assert len(t.evaluate(0)) == 1
    t.observe_api("sz", ok=True)
    assert t.evaluate(10) == []
    assert t.health("sz").describe().startswith("recovering")
    t.observe_api("sz", ok=False, error="timeout")  # flaps: the clock starts again
    assert t.evaluate(35) == []
    t.observe_api("sz", ok=True)
    assert t.evaluate(40) == []
    assert t.evaluate(69) == []
    (up,) = t.evaluate(70)
    assert up.available and up.cluster == "sz"
    assert t.health("sz").describe() == "available"


def test_policy_is_checked() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        FailoverPolicy(api_failures=0)
    assert MoveBack("always") is MoveBack.ALWAYS
