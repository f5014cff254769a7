"""A node's detail: identity, capacity, and a sparkline of its recent CPU share."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static

from console.tui.format import size
from tongchou.v1 import inventory_pb2


class NodeDetail(Vertical):
    DEFAULT_CSS = """
    NodeDetail { height: auto; border-top: solid $accent; padding: 0 1; }
    NodeDetail Sparkline { height: 3; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="node-facts")
        yield Sparkline([], id="node-cpu")

    def show(self, node: inventory_pb2.Node, history: Sequence[float]) -> None:
        ident, cap = node.identity, node.capacity
        labels = ", ".join(f"{k}={v}" for k, v in sorted(ident.labels.items()))
        disks = ", ".join(f"{d.mount} {size(d.total_bytes)}" for d in cap.disks)
        self.query_one("#node-facts", Static).update(
            f"[b]{ident.node}[/b]  {ident.division} · {ident.site} · {ident.cluster} · "
            f"{ident.provider} · 等保 {ident.mlps_level}\n"
            f"{ident.arch} {ident.chip} ({ident.cpu_model or '—'}) · {ident.os.pretty_name or '—'}"
            f" · agent {ident.agent_version or '—'}\n"
            f"{cap.cpu_logical} cores · {size(cap.memory_bytes)} · disks {disks or '—'} · "
            f"GPUs {len(cap.gpus)} · labels {labels or '—'}\n"
            f"CPU {node.usage.cpu_ratio:.1%} now; last {len(history)} reports:"
        )
        self.query_one("#node-cpu", Sparkline).data = list(history)
