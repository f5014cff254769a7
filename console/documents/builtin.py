"""What ships in the package: the compliance guardrails, the default policies and the sample
province. The guardrails (MLPS level, residency, architecture, level reuse) are in force for
every placement unless explicitly turned off."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from console.model.workload import PlacementPolicy

GUARDRAILS = ("mlps", "residency", "architecture", "level-reuse")
"""The names of the always-on compliance rules; each lives in `<name>.yaml` of the defaults."""
UNSAFE_FLAG = "--unsafe-no-guardrails"
"""The one way to run without the guardrails; it is loud in help, logs and the audit log."""
UNSAFE_HELP = (
    "run WITHOUT the built-in compliance guardrails (MLPS level, residency, architecture, "
    "level reuse): workloads may land on clusters the rules forbid. For tests only"
)


GUARDRAILS_OFF = (
    f"{UNSAFE_FLAG}: the compliance guardrails ({', '.join(GUARDRAILS)}) are OFF; workloads "
    "may be placed where MLPS, residency, architecture or level-reuse rules forbid"
)


def default_policies_dir() -> Path:
    """The folder of the default placement policies (the repository's `policies/`)."""
    return Path(str(resources.files("console.policy") / "defaults"))


def sample_dir() -> Path:
    """The sample province: fleet, workloads and planning inputs (`examples/guangdong`)."""
    return Path(str(resources.files("console") / "samples" / "guangdong"))


@functools.cache
def builtin_policies() -> tuple[PlacementPolicy, ...]:
    """The compliance guardrails as policies, marked `guardrail`, in GUARDRAILS order."""
    from console.documents.loader import load_documents
    from console.documents.placement import policies_of

    folder = default_policies_dir()
    policies = policies_of(load_documents([folder / f"{name}.yaml" for name in GUARDRAILS]))
    return tuple(replace(p, guardrail=True) for p in policies)


@dataclass(frozen=True, slots=True)
class Guarded:
    """The policies a placement runs under, and what the user's own did to the guardrails."""

    policies: tuple[PlacementPolicy, ...]
    overridden: tuple[PlacementPolicy, ...] = ()
    """User policies that replace a guardrail of the same name with a different rule."""
    disabled: bool = False


def with_guardrails(policies: Sequence[PlacementPolicy], *, enabled: bool = True) -> Guarded:
    """The guardrails first, then the user's policies. A user policy named like a guardrail
    replaces it (and is reported when its rule differs); `enabled=False` leaves them out."""
    if not enabled:
        return Guarded(tuple(policies), disabled=True)
    mine = {p.name: p for p in policies}
    kept: list[PlacementPolicy] = []
    overridden: list[PlacementPolicy] = []
    for rail in builtin_policies():
        user = mine.get(rail.name)
        if user is None:
            kept.append(rail)
        elif _rule(user) == _rule(rail):
            kept.append(rail)  # the same rule (say, `--policies policies/`): still a guardrail
            del mine[rail.name]
        else:
            overridden.append(user)
    rest = [p for p in policies if p.name in mine]
    return Guarded((*kept, *rest), tuple(overridden))


def _rule(policy: PlacementPolicy) -> tuple[object, ...]:
    return (policy.form, policy.expression, policy.match, policy.weight)


def warnings_of(guarded: Guarded) -> list[str]:
    """Lines an operator must see about the guardrails (empty when all are in force)."""
    if guarded.disabled:
        return [f"WARNING: {GUARDRAILS_OFF}"]
    return [
        f"warning: policy {p.name!r} ({p.origin or 'user policies'}) replaces the built-in "
        "guardrail of that name"
        for p in guarded.overridden
    ]
