"""Plan: run the unified planner in the hub on a folder of planning documents; progress, then
the plan's report, its N-1 resilience, its showback per division, and once its workloads are
submitted (`u`) what of them is placed and what is pending; `v` moves between the four, `j`
writes the plan's JSON to the working directory."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import ContentSwitcher, DataTable, Input, ProgressBar, Static

from console.tui.i18n import LEVELS, text
from tongchou import plantext
from tongchou.v1 import plans_pb2, workloads_pb2

VIEWS = ("plan-scroll", "plan-losses", "plan-showback", "plan-pending")
"""The plan's views in the order `v` shows them."""
VIEW_LABELS = {
    "plan-scroll": "plan_report", "plan-losses": "plan_resilience",
    "plan-showback": "plan_showback", "plan-pending": "plan_pending",
}  # fmt: skip
FOCUSED = {"plan-losses": "plan-resilience"}
"""The widget of a view that takes the focus, where it is not the view itself."""
LISTED = 12
"""Names listed in a loss's detail; the rest are counted."""
GIB_ROUND = 1


def _yuan(value: str) -> str:
    """A decimal yuan string ("1204500.00") as the console shows money: ¥1.20M."""
    amount = float(value)
    return f"¥{amount / 1e6:,.2f}M" if abs(amount) >= 1e4 else f"¥{amount:,.0f}"


class Plan(Vertical):
    def __init__(self, lang: str) -> None:
        super().__init__(id="plan")
        self.lang = lang
        self.result_json = ""
        self.result = plans_pb2.PlanResult()
        self.submitted: list[str] = []  # the plan's workloads, once submitted
        self.names: Mapping[str, str] = {}  # division code → name, when the hub said
        self.losses: dict[str, dict[str, Any]] = {}  # row key → the loss, as the hub said

    def compose(self) -> ComposeResult:
        yield Input(placeholder=text(self.lang, "plan_path"), id="plan-path")
        yield ProgressBar(id="plan-progress", show_eta=False)
        yield Static(id="plan-status")
        yield Static(id="plan-views", markup=False)
        with ContentSwitcher(initial="plan-scroll", id="plan-switcher"):
            with VerticalScroll(id="plan-scroll"):
                yield Static(id="plan-result", markup=False)
            with Vertical(id="plan-losses"):
                yield DataTable(id="plan-resilience", cursor_type="row", zebra_stripes=True)
                yield Static(id="plan-loss", markup=False)
            for view in VIEWS[2:]:
                yield DataTable(id=view, cursor_type="row", zebra_stripes=True)

    def relabel(self) -> None:
        self.query_one(Input).placeholder = text(self.lang, "plan_path")
        status = self.query_one("#plan-status", Static)
        if self.result_json:
            status.update(text(self.lang, "planned"))
            self.query_one("#plan-result", Static).update(self._table())
            self._show_views()

    def on_mount(self) -> None:
        self.query_one(Input).display = False
        self.query_one(ProgressBar).display = False
        self.query_one("#plan-views").display = False

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
            f"≥ ¥{bound / 1e6:,.2f}M · {text(self.lang, 'plan_gap')} {gap_text}"
        )

    def finished(self, result: plans_pb2.PlanResult) -> None:
        progress = self.query_one(ProgressBar)
        progress.update(progress=progress.total or 1)
        self.result = result
        self.result_json = result.json
        self.submitted = []
        self.query_one("#plan-status", Static).update(text(self.lang, "planned"))
        self.query_one("#plan-result", Static).update(self._table())
        self._show_views()
        self.query_one("#plan-pending", DataTable).clear(columns=True)

    def _table(self) -> str:
        """The plan's report in the console's language, from the plan's JSON (the hub's own
        English table when the JSON is not a whole plan)."""
        if self.lang == "en" or not self.result.json:
            return self.result.table
        try:
            return plantext.render(json.loads(self.result.json), self.lang)
        except (ValueError, KeyError, TypeError):
            return self.result.table

    # -- the views --------------------------------------------------------------------

    def current(self) -> Widget:
        """The view on screen (what focus and CSV export take)."""
        view = self.query_one(ContentSwitcher).current or VIEWS[0]
        return self.query_one(f"#{FOCUSED.get(view, view)}")

    def cycle(self) -> Widget:
        """Shows the next view of the plan (the submitted one once there is one)."""
        switcher = self.query_one(ContentSwitcher)
        shown = [v for v in VIEWS if v != "plan-pending" or self.submitted]
        now = switcher.current if switcher.current in shown else VIEWS[0]
        self.show(shown[(shown.index(now) + 1) % len(shown)])
        return self.current()

    def show(self, view: str) -> None:
        self.query_one(ContentSwitcher).current = view
        self._show_views()

    def _show_views(self) -> None:
        line = self.query_one("#plan-views", Static)
        line.display = bool(self.result_json)
        switcher = self.query_one(ContentSwitcher)
        names = []
        for view in VIEWS:
            if view == "plan-pending" and not self.submitted:
                continue
            label = text(self.lang, VIEW_LABELS[view])
            names.append(f"[{label}]" if view == switcher.current else label)
        how = (
            text(self.lang, "plan_unsubmittable", id=self.result.id, why=self.result.unsubmittable)
            if self.result.unsubmittable
            else text(self.lang, "plan_submit_key", n=len(self.result.workloads))
        )
        line.update(f"v {' · '.join(names)}   {how}")
        self._fill_resilience()
        self._fill_showback()

    def _fill_resilience(self) -> None:
        table = self.query_one("#plan-resilience", DataTable)
        table.clear(columns=True)
        keys = ("lost_domain", "clusters", "lost_demands", "earlier_tenants", "absorbed",
                "shortfall")  # fmt: skip
        for key in keys:
            table.add_column(text(self.lang, key), key=key)
        self.losses = {}
        self.query_one("#plan-loss", Static).update("")
        if not self.result.resilience_json:
            return
        for loss in json.loads(self.result.resilience_json)["losses"]:
            self.losses[f"{loss['kind']}/{loss['name']}"] = loss
            absorbed = "yes" if loss["absorbed"] else "no"
            table.add_row(
                f"{text(self.lang, loss['kind'])} {loss['name']}",
                loss["clusters"],
                len(loss["lostDemands"]),
                len(loss["earlierTenants"]),
                text(self.lang, absorbed),
                self._shortfall(loss),
                key=f"{loss['kind']}/{loss['name']}",
            )

    @on(DataTable.RowHighlighted, "#plan-resilience")
    def _loss_shown(self, event: DataTable.RowHighlighted) -> None:
        """Under the table, what losing the highlighted site, cluster or provider does."""
        loss = self.losses.get(str(event.row_key.value))
        if loss is None:
            return
        moved = [f"{d} → {c}" for d, c in loss["moved"].items()]
        lines = [
            text(self.lang, key, list=self._listed(names))
            for key, names in (
                ("lost_list", loss["lostDemands"]),
                ("moved_list", moved),
                ("stranded_list", loss["stranded"]),
                ("tenants_list", loss["earlierTenants"]),
            )
            if names
        ]
        self.query_one("#plan-loss", Static).update("\n".join(lines))

    def _listed(self, names: list[str]) -> str:
        more = len(names) - LISTED
        shown = ", ".join(names[:LISTED])
        return shown + (" " + text(self.lang, "and_more", n=more) if more > 0 else "")

    def _shortfall(self, loss: Mapping[str, Any]) -> str:
        parts = []
        if loss["stranded"]:
            parts.append(text(self.lang, "stranded", n=len(loss["stranded"])))
        for level, short in loss["shortfall"].items():
            level_name = LEVELS.get(self.lang, LEVELS["en"]).get(level, level)
            what = (
                f"{level_name} {short['cpuCores']:g} {text(self.lang, 'cores_word')} / "
                f"{round(short['memoryGiB'], GIB_ROUND):g} GiB"
            )
            if short["sku"]:
                what += f" → {short['servers']} × {short['sku']}"
            parts.append(what)
        return "; ".join(parts) or "—"

    def _fill_showback(self) -> None:
        table = self.query_one("#plan-showback", DataTable)
        table.clear(columns=True)
        for key in ("division", "pays", "alone", "saves"):
            table.add_column(text(self.lang, key), key=key)
        if not self.result.showback_json:
            return
        showback = json.loads(self.result.showback_json)
        for code, money in showback["byDivision"].items():
            name = self.names.get(code, "")
            saves = float(money["aloneCny"]) - float(money["totalCny"])
            table.add_row(
                f"{code} {name}".strip(),
                _yuan(money["totalCny"]),
                _yuan(money["aloneCny"]),
                _yuan(f"{saves:.2f}"),
                key=code,
            )
        table.add_row(
            text(self.lang, "shared_spare"), _yuan(showback["sharedSpareCny"]), "", "",
            key="spare",
        )  # fmt: skip

    # -- what was submitted -----------------------------------------------------------

    def submitted_plan(self, answer: plans_pb2.SubmitPlanResponse) -> None:
        """Shows the submitted workloads, pending ones first."""
        self.submitted = [w.name for w in answer.workloads]
        self.track(answer.workloads)
        self.show("plan-pending")

    def track(self, statuses: Iterable[workloads_pb2.WorkloadStatus]) -> None:
        """The submitted workloads as the hub now places them."""
        if not self.submitted:
            return
        mine = set(self.submitted)
        rows = sorted((s for s in statuses if s.name in mine), key=lambda s: (-s.pending, s.name))
        table = self.query_one("#plan-pending", DataTable)
        table.clear(columns=True)
        for key in ("workload", "placed", "pending", "where"):
            table.add_column(text(self.lang, key), key=key)
        for s in rows:
            placed = sum(p.replicas for p in s.placed)
            where = s.reason if s.pending else ", ".join(p.cluster for p in s.placed)
            table.add_row(s.name, f"{placed}/{s.replicas}", s.pending, where, key=s.name)
