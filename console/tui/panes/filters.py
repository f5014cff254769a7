"""Dialogs for saved filters: name the current filter; pick a saved one to apply."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from console.tui.i18n import text
from console.tui.saved_filters import MAX_NAME

_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 70; max-width: 100%; height: auto; max-height: 80%;
                    border: thick $accent; padding: 0 1; background: $surface; }}
{name} OptionList {{ height: auto; max-height: 20; }}
"""


class NameFilter(ModalScreen[str | None]):
    """Asks a name for `query`; Enter saves under it (an empty name does nothing), Escape
    cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = _CSS.format(name="NameFilter")

    def __init__(self, lang: str, query: str) -> None:
        super().__init__()
        self.lang = lang
        self.filter_text = query

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(text(self.lang, "save_filter_as", query=self.filter_text), markup=False)
            yield Input(
                placeholder=text(self.lang, "filter_name"), max_length=MAX_NAME, id="filter-name"
            )

    @on(Input.Submitted, "#filter-name")
    def _named(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        if name:
            self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PickFilter(ModalScreen[str | None]):
    """The saved filters of a view, `name  query`; Enter applies one, Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = _CSS.format(name="PickFilter")

    def __init__(self, lang: str, view: str, filters: dict[str, str]) -> None:
        super().__init__()
        self.lang = lang
        self.view = view
        self.filters = filters

    def compose(self) -> ComposeResult:
        width = max(len(n) for n in self.filters)
        with Vertical():
            yield Static(text(self.lang, "saved_filters", view=text(self.lang, self.view)))
            yield OptionList(
                *(
                    Option(Text(f"{name:<{width}}  {query}"), id=name)
                    for name, query in sorted(self.filters.items())
                ),
                id="filter-list",
            )

    @on(OptionList.OptionSelected, "#filter-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
