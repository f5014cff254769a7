"""Workloads: placement per cluster and pending reasons; submit a YAML file; explain one."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from console.tui.i18n import reason_text, text
from console.tui.widgets.columns import label_columns
from tongchou.v1 import workloads_pb2

COLUMNS = ("workload", "placed", "pending", "where")


class Workloads(Vertical):
    """The workload table; `s` asks for a file to submit, Enter explains the selected one."""

    class SubmitRequested(Message):
        """A file (or folder) of workload documents to submit to the hub."""

        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    def __init__(self, lang: str) -> None:
        super().__init__(id="workloads")
        self.lang = lang
        self.replicas_of: dict[str, int] = {}  # each workload's wanted replicas, as last shown

    def compose(self) -> ComposeResult:
        yield Input(placeholder=text(self.lang, "submit"), id="submit-path")
        yield DataTable(id="workload-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="explain-scroll"):
            yield Static(id="explanation")

    def on_mount(self) -> None:
        self.relabel()
        self.query_one(Input).display = False
        self.query_one("#explain-scroll").display = False

    def relabel(self) -> None:
        label_columns(self.query_one(DataTable), self.lang, COLUMNS)

    def show(self, statuses: list[workloads_pb2.WorkloadStatus]) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        self.replicas_of = {s.name: s.replicas for s in statuses}
        for s in statuses:
            placed = sum(p.replicas for p in s.placed)
            where = ", ".join(cluster_cell(p) for p in s.placed)
            why = reason_text(self.lang, s.reason) if s.pending else where
            table.add_row(s.name, f"{placed}/{s.replicas}", s.pending, why, key=s.name)
        if statuses:
            table.move_cursor(row=min(keep, len(statuses) - 1))

    def ask_file(self) -> None:
        box = self.query_one(Input)
        box.display = True
        self.screen.set_focus(box)  # now: keys typed next go to the box

    @on(Input.Submitted, "#submit-path")
    def _submit(self, event: Input.Submitted) -> None:
        event.input.display = False
        path = Path(event.value.strip()).expanduser()
        event.input.value = ""
        self.post_message(self.SubmitRequested(path))
        self.query_one(DataTable).focus()

    def selected(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key
        return str(key.value)

    def explain(self, explanation: workloads_pb2.Explanation) -> None:
        """Every cluster, grouped: those given replicas, those eligible but given none, then
        those removed, by policy and reason (largest group first)."""
        self.query_one("#explanation", Static).update(explanation_text(self.lang, explanation))
        self.query_one("#explain-scroll").display = True


def explanation_text(lang: str, explanation: workloads_pb2.Explanation) -> Text:
    status = explanation.status
    out = Text(f"{text(lang, 'explain')}: {status.name}", style="bold")
    placed = sum(p.replicas for p in status.placed)
    out.append(f"  {placed}/{status.replicas} {text(lang, 'placed_word')}\n", style="")
    if status.pending and status.reason:
        out.append(reason_text(lang, status.reason) + "\n", style="yellow")
    elif explanation.summary:
        out.append(reason_text(lang, explanation.summary) + "\n")
    chosen = sorted(
        (v for v in explanation.clusters if not v.removed_by and v.replicas),
        key=lambda v: (-v.replicas, -v.score, v.cluster),
    )
    idle = sorted(
        (v for v in explanation.clusters if not v.removed_by and not v.replicas),
        key=lambda v: (-v.score, v.cluster),
    )
    removed: dict[tuple[str, str], list[str]] = {}
    for v in explanation.clusters:
        if v.removed_by:
            removed.setdefault((v.removed_by, v.reason), []).append(v.cluster)
    if chosen:
        out.append(f"✓ {text(lang, 'given_replicas', n=len(chosen))}\n", style="green")
        for v in chosen:
            terms = " ".join(f"{k}={t:.0f}" for k, t in sorted(v.terms.items()))
            out.append(
                f"    {v.cluster:<24} → {v.replicas}  fit {v.fit} cap {v.cap} "
                f"score {v.score:.1f}  {terms}\n"
            )
    if idle:
        reason = reason_text(lang, idle[0].reason) or text(lang, "eligible_none")
        out.append(f"○ {text(lang, 'eligible_zero', n=len(idle))}: {reason}\n", style="cyan")
        for v in idle:
            out.append(f"    {v.cluster:<24} → 0  fit {v.fit} cap {v.cap} score {v.score:.1f}\n")
    for (policy, reason), names in sorted(removed.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        out.append(f"✗ {len(names)} · {policy}: {reason_text(lang, reason)}\n", style="red")
        out.append("    " + ", ".join(sorted(names)) + "\n")
    out.append(text(lang, "clusters_listed", n=len(explanation.clusters)), style="dim")
    return out


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
