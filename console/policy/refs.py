"""What a CEL expression reads: which workload fields, and whether it reads the cluster side.

The scheduler caches a policy's result by the values of the workload fields it reads, and
re-evaluates it for a cluster only when a cluster field it reads has changed. A tokenizer
is enough to know this: CEL has no assignment and no way to reach a variable except by
its name, so every read of `workload` is the token `workload` and, usually, `.field`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""(?P<string>[rRbB]*('''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"))"""
    r"""|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)"""
    r"""|(?P<dot>\.)"""
    r"""|(?P<space>\s+)"""
    r"""|(?P<other>.)""",
    re.DOTALL,
)

# Cluster fields that change as the scheduler places replicas.
DYNAMIC_CLUSTER_FIELDS = frozenset({"cpuAllocated", "memoryAllocated"})


@dataclass(frozen=True, slots=True)
class References:
    """The variables and fields an expression reads.

    `workload_fields` is None when the expression uses `workload` as a whole (then every
    field counts); `cluster_fields` holds ("cluster" | "site" | "division", field) pairs, or
    is None when one of those variables is used as a whole; `dynamic` when it reads cluster
    fields that change during scheduling.
    """

    workload_fields: frozenset[str] | None
    cluster_side: bool
    fit: bool
    dynamic: bool
    cluster_fields: frozenset[tuple[str, str]] | None = frozenset()

    @property
    def workload_only(self) -> bool:
        return not self.cluster_side and not self.fit


def references(source: str) -> References:
    """Scans `source` (already known to compile) for the variables it reads."""
    tokens = [
        (m.lastgroup, m.group())
        for m in _TOKEN.finditer(source)
        if m.lastgroup not in ("space", None)
    ]
    fields: set[str] = set()
    side_fields: set[tuple[str, str]] = set()
    whole = side_whole = False
    cluster_side = fit = dynamic = False
    for i, (kind, text) in enumerate(tokens):
        if kind != "ident":
            continue
        after_dot = i > 0 and tokens[i - 1][0] == "dot"
        if after_dot:
            continue  # a field or a method name, not a variable
        selected = (
            tokens[i + 2][1]
            if i + 2 < len(tokens) and tokens[i + 1][0] == "dot" and tokens[i + 2][0] == "ident"
            else None
        )
        if text == "workload":
            if selected is None:
                whole = True
            else:
                fields.add(selected)
        elif text in ("cluster", "site", "division"):
            cluster_side = True
            if selected is None:
                side_whole = True
            else:
                side_fields.add((text, selected))
            if text == "cluster" and (selected is None or selected in DYNAMIC_CLUSTER_FIELDS):
                dynamic = True
        elif text == "fit":
            fit = True
    return References(
        workload_fields=None if whole else frozenset(fields),
        cluster_side=cluster_side,
        fit=fit,
        dynamic=dynamic,
        cluster_fields=None if side_whole else frozenset(side_fields),
    )
