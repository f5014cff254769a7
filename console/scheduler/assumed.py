"""What an offline `schedule` assumed, said beside its result, and why a live hub may differ."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from console.model.fleet import Fleet
from console.model.workload import PlacementPolicy, Workload
from tongchou.climsg import say

LIVE_DIFFERS = (
    "a live hub places against what it knows now: only the nodes that report (with the "
    "capacity they report; stale and lost nodes, and clusters failover took out of service, "
    "take nothing); no node's status.allocated, but the replicas its other workloads hold "
    "(one submitted earlier keeps its clusters); and its own --policies"
)


def assumptions(
    fleet: Fleet, workloads: Sequence[Workload], policies: Sequence[PlacementPolicy]
) -> list[str]:
    """One line per assumption of an offline run, then how a live hub differs."""
    nodes = len(fleet.nodes)
    declared = sum(
        1 for n in fleet.nodes.values() if n.allocated.cpu_milli or n.allocated.memory_bytes
    )
    if declared == nodes and nodes:
        in_use = "every one declares status.allocated, counted as in use"
    elif declared:
        in_use = f"{declared:,} declare status.allocated (counted as in use), the rest start empty"
    else:
        in_use = "none declares status.allocated: every node starts empty"
    guardrails = sum(1 for p in policies if p.guardrail)
    return [
        f"{len(fleet.clusters):,} clusters and {nodes:,} nodes from the fleet files, every node "
        f"ready with its declared capacity; {in_use}",
        f"only these {len(workloads):,} workloads hold capacity, placed one after another by "
        "priority (highest first), then name; each takes what the ones before it left",
        f"{len(policies)} policies: {guardrails} built-in guardrails and "
        f"{len(policies) - guardrails} from --policies",
        LIVE_DIFFERS,
    ]


def render_assumptions(lines: Sequence[str], width: int = 100, lang: str = "en") -> str:
    """`assumed (offline):` (in `lang`) and one bullet per line, wrapped to `width` columns."""
    out = [say(lang, "assumed")]
    for line in lines:
        out += textwrap.wrap(line, width, initial_indent="  - ", subsequent_indent="    ")
    return "\n".join(out)
