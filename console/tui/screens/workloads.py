"""Workloads: placement per cluster and pending reasons; submit a YAML file; explain one."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Input, Static

from console.tui.i18n import text
from console.tui.widgets.columns import label_columns
from tongchou.v1 import workloads_pb2

COLUMNS = ("workload", "placed", "pending", "where")


class Workloads(Vertical):
    """The workload table; `s` asks for a file to submit, Enter explains the selected one."""

    def __init__(self, lang: str) -> None:
        super().__init__(id="workloads")
        self.lang = lang

    def compose(self) -> ComposeResult:
        yield Input(placeholder=text(self.lang, "submit"), id="submit-path")
        yield DataTable(id="workload-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="explanation")

    def on_mount(self) -> None:
        self.relabel()
        self.query_one(Input).display = False

    def relabel(self) -> None:
        label_columns(self.query_one(DataTable), self.lang, COLUMNS)

    def show(self, statuses: list[workloads_pb2.WorkloadStatus]) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for s in statuses:
            placed = sum(p.replicas for p in s.placed)
            where = ", ".join(cluster_cell(p) for p in s.placed)
            why = s.reason if s.pending else where
            table.add_row(s.name, f"{placed}/{s.replicas}", s.pending, why, key=s.name)
        if statuses:
            table.move_cursor(row=min(keep, len(statuses) - 1))

    def ask_file(self) -> None:
        box = self.query_one(Input)
        box.display = True
        box.focus()

    @on(Input.Submitted, "#submit-path")
    def _submit(self, event: Input.Submitted) -> None:
        event.input.display = False
        path = Path(event.value.strip()).expanduser()
        event.input.value = ""
        self.app.submit_file(path)  # type: ignore[attr-defined]
        self.query_one(DataTable).focus()

    def selected(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key
        return str(key.value)

    def explain(self, explanation: workloads_pb2.Explanation) -> None:
        lines = [
            f"[b]{text(self.lang, 'explain')}: {explanation.status.name}[/b]  {explanation.summary}"
        ]
        ranked = sorted(explanation.clusters, key=lambda v: (v.removed_by != "", -v.score))
        for v in ranked[:20]:
            if v.removed_by:
                lines.append(f"  {v.cluster:<24} [red]✗[/red] {v.removed_by}: {v.reason}")
            else:
                terms = " ".join(f"{k}={t:.0f}" for k, t in sorted(v.terms.items()))
                lines.append(
                    f"  {v.cluster:<24} [green]✓[/green] fit {v.fit} cap {v.cap} "
                    f"score {v.score:.1f} → {v.replicas}  {terms}"
                )
        self.query_one("#explanation", Static).update("\n".join(lines))


def cluster_cell(p: workloads_pb2.ClusterReplicas) -> str:
    """`cluster×placed`, with ready replicas and any trouble when the hub runs the executor:
    `gz-a×3 (2 ready)`, `sz-b×3 (0 ready; unavailable: …)`."""
    cell = f"{p.cluster}×{p.replicas}"
    notes = []
    if p.HasField("ready"):
        notes.append(f"{p.ready} ready")
    if p.health and p.health != "available":
        notes.append(p.health)
    return f"{cell} ({'; '.join(notes)})" if notes else cell
