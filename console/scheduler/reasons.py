"""The shapes of the scheduler's reasons in English, with `{field}`s where values go: what the
gettext catalogs translate (context `reason`), so consoles show them in the operator's
language. A test places workloads that produce each of them and checks every one is matched;
a reason the scheduler says in a new shape fails it until the shape is listed here."""

from __future__ import annotations

_CLUSTERS = ("{n} eligible cluster", "{n} eligible clusters")

REASONS: tuple[str, ...] = (
    # the deciding fact (console/scheduler/cause.py)
    "no cluster has a ready node",
    "no cluster at MLPS level {level} exists (the highest with ready nodes is {highest})",
    "no cluster with ready nodes inside division {division}",
    "no {wanted} node in any eligible cluster ({n} cluster passes the other rules)",
    "no {wanted} node in any eligible cluster ({n} clusters pass the other rules)",
    "no cluster passes {policy} ({message})",
    "no cluster passes every rule; each fails two or more",
    "no cluster passes every rule; closest: {n} cluster failing only {policy} ({message})",
    "no cluster passes every rule; closest: {n} clusters failing only {policy} ({message})",
    *(f"no allowed node in the {c}" for c in _CLUSTERS),
    *(f"no {{wanted}} node in the {c}" for c in _CLUSTERS),
    *(
        f"no node can hold one replica ({{resources}}): the largest free node of the {c} is "
        "{largest}, though they have {cpu} CPU free in all"
        for c in _CLUSTERS
    ),
    "{cpu} CPU and {memory}",
    "{node} ({cluster}) with {cpu} CPU and {memory} free",
    *(
        f"{{policy}} {what} ({{message}}): e.g. {{cluster}} has room for {{fit}}, limit "
        "{limit} at {cpu_share} of its CPU and {memory_share} of its memory allocated"
        for what in (
            "allows none in {n} cluster with room",
            "allows none in {n} clusters with room",
            "holds {n} cluster below its room",
            "holds {n} clusters below its room",
        )
    ),
    "only {placed} of {replicas} fit ({resources} each): {parts}",
    *(
        f"the {other}{c} {verb}{tail}"
        for other in ("", "other ")
        for c, verb in zip(_CLUSTERS, ("is full", "are full"), strict=True)
        for tail in ("", " (the largest free node left is {largest})")
    ),
    # the scheduler's own (console/scheduler/scheduler.py)
    "only {placed} of {replicas} fit: {parts}",
    "{n} cluster full",
    "{n} clusters full",
    "{n} cluster held by {policy}",
    "{n} clusters held by {policy}",
    "spread: needs {sites} sites, but the workload has only {replicas} replicas",
    "spread: needs {sites} sites, {eligible} eligible ({names})",
    "spread: needs {sites} sites, {eligible} eligible",
    "{left}/{count} clusters: {parts}",
    "{n} {why}",
    "no ready nodes",
    "no allowed node",
    "insufficient cpu",
    "insufficient memory",
    "insufficient cpu and memory",
    "no node has both cpu and memory",
    "limit",
    "eligible; the replicas went to clusters that scored higher",
    # the hub's, before a pass has placed a workload
    "not scheduled yet",
    "waiting for the leading hub replica to place it",
    # the messages of the default placement policies (policies/*.yaml)
    "MLPS level below the workload's",
    "arch not allowed",
    "outside the residency division",
    "not the owner's own or a shared ancestor cluster",
    "would pass 85% of allocatable CPU or memory",
    "replicas over at least spread.minSites sites",
    "cheaper energy (power price × PUE)",
)


def sources() -> list[tuple[str, str]]:
    """(context, English) of every reason shape, for the catalogs."""
    return [("reason", r) for r in REASONS]
