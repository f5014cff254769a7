"""Policies: the placement policies the hub schedules under, each with the workloads it binds
and the clusters it removes; `k` checks a policy file against the same workloads."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from console.tui.i18n import text
from console.tui.widgets.columns import label_columns
from tongchou.v1 import policies_pb2

COLUMNS = ("policy", "form", "weight", "matched", "removed", "examples", "origin")


class Policies(Vertical):
    class CheckRequested(Message):
        """Candidate policies from `source` to check against the hub's workloads and clusters."""

        def __init__(self, source: str, documents: str) -> None:
            super().__init__()
            self.source = source
            self.documents = documents

    def __init__(self, lang: str) -> None:
        super().__init__(id="policies")
        self.lang = lang

    def compose(self) -> ComposeResult:
        yield Input(placeholder=text(self.lang, "check_path"), id="check-path")
        yield Static(id="policy-header")
        yield DataTable(id="policy-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="policy-check")

    def on_mount(self) -> None:
        self.relabel()
        self.query_one(Input).display = False

    def relabel(self) -> None:
        label_columns(self.query_one(DataTable), self.lang, COLUMNS)

    def _rows(self, table: DataTable[object], answer: policies_pb2.ListPoliciesResponse) -> None:
        for p in answer.policies:
            removed = "—"
            if p.form in ("require", "limit") and p.workloads_matched:
                removed = f"{p.clusters_removed_mean:.1f} / {p.clusters_removed}"
            table.add_row(
                p.name, p.form, f"{p.weight:g}", f"{p.workloads_matched}/{answer.workloads}",
                removed, ", ".join(p.removed_examples[:4]), p.origin.rsplit("/", 1)[-1],
                key=p.name,
            )  # fmt: skip

    def show(self, answer: policies_pb2.ListPoliciesResponse) -> None:
        self.query_one("#policy-header", Static).update(
            text(
                self.lang,
                "policies_loaded",
                policies=len(answer.policies),
                workloads=answer.workloads,
                clusters=answer.clusters,
            )
        )
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        self._rows(table, answer)
        if answer.policies:
            table.move_cursor(row=min(keep, len(answer.policies) - 1))

    def ask_file(self) -> None:
        box = self.query_one(Input)
        box.display = True
        self.screen.set_focus(box)  # now: keys typed next go to the box

    @on(Input.Submitted, "#check-path")
    def _check(self, event: Input.Submitted) -> None:
        event.input.display = False
        path = Path(event.value.strip()).expanduser()
        files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        try:
            documents = "\n---\n".join(f.read_text(encoding="utf-8") for f in files)
        except OSError as err:
            self.checked_error(f"{path}: {err.strerror or err}")
            return
        self.post_message(self.CheckRequested(str(path), documents))

    def checked(self, source: str, answer: policies_pb2.ListPoliciesResponse) -> None:
        lines = [f"[b]{escape(text(self.lang, 'checked', source=source))}[/b]"]
        for p in answer.policies:
            effect = (
                f"removes {p.clusters_removed_mean:.1f} of {answer.clusters} clusters on average,"
                f" at most {p.clusters_removed}"
                if p.form in ("require", "limit")
                else p.form
            )
            examples = f" ({', '.join(p.removed_examples[:6])})" if p.removed_examples else ""
            lines.append(
                f"  [green]✓[/green] {escape(p.name)}: binds {p.workloads_matched}/"
                f"{answer.workloads} workloads; {effect}{escape(examples)}"
            )
        self.query_one("#policy-check", Static).update("\n".join(lines))

    def checked_error(self, message: str) -> None:
        self.query_one("#policy-check", Static).update(f"[red]✗ {escape(message)}[/red]")
