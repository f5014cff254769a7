"""The console's screen as plain text, as a terminal of the app's size shows it."""

from __future__ import annotations

import io

from rich.console import Console
from textual.app import App


def screen_text(app: App[None]) -> list[str]:
    """One string per terminal row (what a person sees, without colours)."""
    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), force_terminal=True,
        color_system="truecolor", record=True, legacy_windows=False, safe_box=False,
    )  # fmt: skip
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text().splitlines()
