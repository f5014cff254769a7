"""The help screen: every key of the console, read from the bindings themselves, in the
interface language (a binding without a help line fails a test)."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from rich.table import Table
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.tui.i18n import text

GROUPS = {"tab": "views", "cursor": "move", "page": "move", "jump": "move", "sort": "sort",
          "reverse": "sort", "leave_filter": "filter"}  # fmt: skip
"""Actions whose keys share one help line."""
EXTRA = (
    ("tab  shift+tab", "help_focus"),
    ("ctrl+p", "help_palette"),
    ("ctrl+q", "help_quit"),
)
"""Keys Textual itself gives every screen."""


def help_key(binding: Binding) -> str:
    """The label key of a binding's help line: `help_<action>` or its group's."""
    action = re.sub(r"\(.*\)$", "", binding.action).removeprefix("app.")
    return "help_" + GROUPS.get(action, action)


def key_name(app: App[Any], binding: Binding) -> str:
    return binding.key_display or app.get_key_display(binding)


def help_lines(app: App[Any], lang: str, bindings: list[Binding]) -> list[tuple[str, str]]:
    """(keys, what they do), one line per action or group, in the order of the bindings."""
    keys: dict[str, list[str]] = {}
    for binding in bindings:
        keys.setdefault(help_key(binding), []).append(key_name(app, binding))
    lines = [(" ".join(dict.fromkeys(k)), text(lang, label)) for label, k in keys.items()]
    return lines + [(k, text(lang, label)) for k, label in EXTRA]


class Help(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
    ]
    DEFAULT_CSS = """
    Help { align: center middle; }
    Help > VerticalScroll { width: 90; max-width: 100%; height: auto; max-height: 100%;
                            border: round $accent; padding: 0 1; background: $surface; }
    """

    def __init__(self, lang: str, bindings: list[Binding]) -> None:
        super().__init__()
        self.lang = lang
        self.bindings = bindings

    def compose(self) -> ComposeResult:
        body = Table.grid(padding=(0, 2))
        body.add_column(style="bold", no_wrap=True)
        body.add_column(ratio=1)
        for keys, what in help_lines(self.app, self.lang, self.bindings):
            body.add_row(keys, what)
        with VerticalScroll():
            yield Static(body, id="help-text")
