"""Plan: run the unified planner in the hub on a folder of planning documents; progress, then
decisions, purchases and savings; `j` writes the plan's JSON to the working directory."""

from __future__ import annotations

import math

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, ProgressBar, Static

from console.tui.i18n import text


class Plan(Vertical):
    def __init__(self, lang: str) -> None:
        super().__init__(id="plan")
        self.lang = lang
        self.result_json = ""

    def compose(self) -> ComposeResult:
        yield Input(placeholder=text(self.lang, "plan_path"), id="plan-path")
        yield ProgressBar(id="plan-progress", show_eta=False)
        yield Static(id="plan-status")
        with VerticalScroll(id="plan-scroll"):
            yield Static(id="plan-result", markup=False)

    def relabel(self) -> None:
        self.query_one(Input).placeholder = text(self.lang, "plan_path")
        status = self.query_one("#plan-status", Static)
        if self.result_json:
            status.update(text(self.lang, "planned"))

    def on_mount(self) -> None:
        self.query_one(Input).display = False
        self.query_one(ProgressBar).display = False

    def ask_folder(self) -> None:
        box = self.query_one(Input)
        box.display = True
        self.screen.set_focus(box)  # now: keys typed next go to the box

    def started(self, time_limit: float) -> None:
        progress = self.query_one(ProgressBar)
        progress.display = True
        progress.update(total=time_limit, progress=0)
        self.query_one("#plan-status", Static).update(text(self.lang, "solving"))

    def progressed(self, elapsed: float, best: float, bound: float, gap: float) -> None:
        self.query_one(ProgressBar).update(progress=elapsed)
        gap_text = f"{gap:.2%}" if math.isfinite(gap) and gap < 10 else "—"
        self.query_one("#plan-status", Static).update(
            f"{text(self.lang, 'solving')} {elapsed:.1f}s · ¥{best / 1e6:,.2f}M · "
            f"≥ ¥{bound / 1e6:,.2f}M · gap {gap_text}"
        )

    def finished(self, table: str, result_json: str) -> None:
        progress = self.query_one(ProgressBar)
        progress.update(progress=progress.total or 1)
        self.result_json = result_json
        self.query_one("#plan-status", Static).update(text(self.lang, "planned"))
        self.query_one("#plan-result", Static).update(table)
