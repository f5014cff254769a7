"""What each policy alone removes for the workloads it binds (the console's Policies view)."""

from __future__ import annotations

from console.scheduler import Scheduler

from .builders import C, N, fleet, policies, workload

KUNPENG = N(arch="aarch64", chip="kunpeng-920")


def test_effects_count_per_workload_and_union_the_examples() -> None:
    f = fleet([
        C("x86-a", "a"), C("x86-b", "b"), C("arm", "c", nodes=(KUNPENG,)),
        C("empty", "d", nodes=()), C("level2", "e", mlps=2),
    ])  # fmt: skip
    arm_only = workload("arm-only", archs=("aarch64",))
    anywhere = workload("anywhere")
    strict = workload("strict", mlps=3)
    scheduler = Scheduler(f, policies("architecture", "mlps", "east-west"))
    architecture, mlps, east_west = scheduler.effects([arm_only, anywhere, strict])

    assert architecture.workloads_matched == 3
    # only the Arm-only workload loses the x86 clusters; the empty cluster is not counted
    assert architecture.removed_each == [3, 0, 0]
    assert architecture.removed == ["level2", "x86-a", "x86-b"]
    assert (architecture.removed_max, architecture.removed_mean) == (3, 1.0)

    assert mlps.removed_each == [0, 0, 1] and mlps.removed == ["level2"]
    # a preference binds its workloads but removes nothing
    assert east_west.removed == [] and east_west.removed_each == []


def test_a_policy_that_binds_nothing_has_no_effect() -> None:
    f = fleet([C("x86-a", "a")])
    (residency,) = Scheduler(f, policies("residency")).effects([workload("free")])
    assert residency.workloads_matched == 0
    assert (residency.removed, residency.removed_max, residency.removed_mean) == ([], 0, 0.0)
