"""Drill-down: a division, site or cluster opened as the nodes (and workloads) under it, with
a breadcrumb of how the operator got there; Escape goes back a step."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from console.tui.i18n import text
from tongchou.divisions import ancestors
from tongchou.v1 import inventory_pb2, workloads_pb2


@dataclass(frozen=True, slots=True)
class Scope:
    """What was opened: `division` (its subtree), `site` or `cluster`, by code or name."""

    kind: str
    value: str

    def holds(self, node: inventory_pb2.Node) -> bool:
        ident = node.identity
        if self.kind == "division":
            return ident.division == self.value or self.value in ancestors(ident.division)
        if self.kind == "site":
            return ident.site == self.value
        return ident.cluster == self.value

    def label(self, names: Mapping[str, str]) -> str:
        if self.kind == "division":
            return f"{self.value} {names.get(self.value, '')}".rstrip()
        return self.value


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the trail: the view left, and the scope opened from it."""

    tab: str
    scope: Scope


def workloads_in(
    clusters: set[str], statuses: Iterable[workloads_pb2.WorkloadStatus]
) -> list[tuple[str, int]]:
    """Workloads with replicas in `clusters`, and how many there, most first."""
    out = []
    for status in statuses:
        here = sum(p.replicas for p in status.placed if p.cluster in clusters)
        if here:
            out.append((status.name, here))
    return sorted(out, key=lambda x: (-x[1], x[0]))


def breadcrumb(
    lang: str,
    trail: list[Step],
    names: Mapping[str, str],
    nodes: int,
    workloads: list[tuple[str, int]],
) -> str:
    """`Overview › 440106 天河区 · 12 nodes · workloads here: portal×3, video×2 · Esc back`."""
    parts = [text(lang, trail[0].tab)] + [step.scope.label(names) for step in trail]
    line = " › ".join(parts) + " · " + text(lang, "scope_nodes", n=nodes)
    if workloads:
        shown = ", ".join(f"{name}×{n}" for name, n in workloads[:6])
        more = f" (+{len(workloads) - 6})" if len(workloads) > 6 else ""
        line += " · " + text(lang, "scope_workloads", list=shown + more)
    return line + " · " + text(lang, "scope_back")
