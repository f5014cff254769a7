"""A workload's stored document (read-only YAML) and its replica count, which Enter changes."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static, TextArea

from console.tui.i18n import text


class WorkloadDialog(ModalScreen[int | None]):
    """Dismissed with the new replica count (Enter on a changed count), or None
    (Escape). Without the right to scale, the count is shown and cannot be edited."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]
    DEFAULT_CSS = """
    WorkloadDialog { align: center middle; }
    WorkloadDialog > Vertical { width: 100; max-width: 100%; height: 90%;
                                border: thick $accent; padding: 0 1; background: $surface; }
    WorkloadDialog TextArea { height: 1fr; }
    WorkloadDialog Horizontal { height: auto; }
    WorkloadDialog #scale-label { width: auto; padding: 1 1 0 0; }
    WorkloadDialog #scale-replicas { width: 14; }
    WorkloadDialog #scale-note { padding: 1 0 0 1; color: $text-muted; }
    """

    def __init__(
        self, lang: str, name: str, document: str, replicas: int, *, may_scale: bool
    ) -> None:
        super().__init__()
        self.lang = lang
        self.workload = name
        self.document = document
        self.replicas = replicas
        self.may_scale = may_scale

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                text(self.lang, "workload_title", name=self.workload), markup=False, id="yaml-title"
            )
            yield TextArea(self.document, read_only=True, show_line_numbers=True, id="yaml-view")
            with Horizontal():
                yield Static(text(self.lang, "scale_label"), id="scale-label")
                yield Input(
                    str(self.replicas),
                    type="integer",
                    max_length=6,
                    disabled=not self.may_scale,
                    id="scale-replicas",
                )
                note = "scale_hint" if self.may_scale else "scale_not_allowed"
                yield Static(text(self.lang, note), markup=False, id="scale-note")

    def on_mount(self) -> None:
        if self.may_scale:
            self.query_one("#scale-replicas", Input).focus()
        else:
            self.query_one(TextArea).focus()

    @on(Input.Submitted, "#scale-replicas")
    def _scale(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        count = int(value) if value.isdigit() else -1
        if count < 0:  # the hub checks the upper bound, as for any submission
            self.query_one("#scale-note", Static).update(text(self.lang, "scale_bad", value=value))
            return
        self.dismiss(None if count == self.replicas else count)

    def action_close(self) -> None:
        self.dismiss(None)
