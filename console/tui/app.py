"""The Tongchou console: a thin App wiring the hub's watch stream to its views."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.css.query import NoMatches
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Input,
    LoadingIndicator,
    Static,
    TabbedContent,
    TabPane,
    Tree,
)

from console.client.errors import HubError
from console.client.fleet_view import FleetView
from console.client.texts import DocumentText, documents_of
from console.tui.drill import Scope, Step, breadcrumb, workloads_in
from console.tui.export import table_rows, to_csv
from console.tui.freshness import Freshness
from console.tui.help import Help
from console.tui.hub import Hub
from console.tui.i18n import reason_text, text
from console.tui.panes.audit import Audit
from console.tui.panes.clusters import Clusters
from console.tui.panes.confirm import Confirm
from console.tui.panes.events import Events
from console.tui.panes.filters import NameFilter, PickFilter
from console.tui.panes.history import History, SeriesSource
from console.tui.panes.nodes import Nodes
from console.tui.panes.overview import Overview
from console.tui.panes.plan import Plan
from console.tui.panes.policies import Policies
from console.tui.panes.sites import Sites
from console.tui.panes.situation import Situation
from console.tui.panes.workload_dialog import WorkloadDialog
from console.tui.panes.workloads import Workloads
from console.tui.paths import export_path, state_home, write_export
from console.tui.readonly import MARK, REFUSED
from console.tui.saved_filters import SavedFilters, SavedFiltersError
from console.tui.widgets.filter_box import FilterBox
from console.tui.widgets.fleet_table import FleetTable

# Actions that call the hub, and the method each needs (hidden when the user may not).
_ACTION_METHODS = {
    "submit": "/tongchou.v1.WorkloadService/SubmitWorkload",
    "explain": "/tongchou.v1.WorkloadService/ExplainWorkload",
    "run_plan": "/tongchou.v1.PlanService/RunPlan",
    "check_policies": "/tongchou.v1.PolicyService/CheckPolicies",
    "delete_workload": "/tongchou.v1.WorkloadService/DeleteWorkload",
    "workload": "/tongchou.v1.WorkloadService/GetWorkloadDocument",
    "submit_plan": "/tongchou.v1.PlanService/SubmitPlan",
}
_SCALE = "/tongchou.v1.WorkloadService/ScaleWorkload"
TABS = (
    "overview", "situation", "nodes", "clusters", "sites", "workloads", "policies", "plan",
    "history", "events", "audit",
)  # fmt: skip
FOCUS = {
    "overview": "#divisions", "nodes": "#node-table", "clusters": "#cluster-table",
    "sites": "#site-table", "workloads": "#workload-table", "policies": "#policy-table",
    "plan": "#plan-scroll", "events": "#event-table", "audit": "#audit-table",
    "situation": "#situation", "history": "#history",
}  # fmt: skip
"""The widget each view focuses when it is shown: its table (the plan's report)."""
VIEW_KEYS = {
    "overview": "o", "nodes": "n", "clusters": "c", "sites": "t", "workloads": "w",
    "policies": "y", "plan": "p", "events": "e", "audit": "a", "situation": "b",
    "history": "h",
}  # fmt: skip


FOOTER = {
    "help": "key_help", "quit": "key_quit", "filter": "key_filter", "submit": "key_submit",
    "explain": "key_explain", "run_plan": "key_run_plan", "language": "key_language",
    "pause": "key_pause",
}  # fmt: skip
"""The footer's actions and their label keys."""


def every_binding() -> list[Binding]:
    """The console's keys: the app's, then its tables'."""
    keys = (*TongchouApp.BINDINGS, *FleetTable.BINDINGS, *History.BINDINGS)
    return [b for b in keys if isinstance(b, Binding)]


def tab_label(lang: str, tab: str) -> Content:
    """A tab's title after its key: `o Overview`, `n 节点`."""
    return Content.assemble((VIEW_KEYS[tab], "bold underline"), " ", text(lang, tab))


PLAN_TIME_LIMIT = 30.0


VIEWS: dict[str, Callable[[str], Widget]] = {
    "overview": Overview,
    "nodes": Nodes,
    "clusters": Clusters,
    "sites": Sites,
    "workloads": Workloads,
    "policies": Policies,
    "plan": Plan,
    "events": Events,
    "audit": Audit,
    "situation": Situation,
    "history": History,
}


def settle_memory() -> None:
    """Once the fleet is on screen: the objects made so far (widgets, styles, the snapshot)
    live as long as the console, so the cyclic collector stops scanning them. Without this a
    full collection over 10,000 nodes' state stalls the screen for 100-250 ms now and then."""
    gc.collect()
    gc.freeze()


class FleetChanged(Message):
    """The fleet view changed; many of these merge into one while the app is busy."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FleetChanged)


class HubStatus(Message):
    def __init__(self, connected: bool) -> None:
        super().__init__()
        self.connected = connected


class TongchouApp(App[None]):
    CSS_PATH = Path(__file__).with_name("tongchou.tcss")
    TITLE = "Tongchou 统筹"
    # The footer shows the actions, help and quit first (they must survive a 100-column
    # terminal); the view keys are on the tabs themselves ("o Overview").
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
        *(Binding(key, f"tab('{tab}')", tab.title(), show=False) for tab, key in VIEW_KEYS.items()),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("s", "submit", "Submit"),
        Binding("x", "explain", "Explain"),
        Binding("r", "run_plan", "Run plan"),
        Binding("k", "check_policies", "Check policies", show=False),
        Binding("d", "delete_workload", "Delete", show=False),
        Binding("v", "workload", "YAML / scale", show=False),
        Binding("f", "recall_filter", "Saved filters", show=False),
        Binding("F", "save_filter", "Save filter", show=False),
        Binding("j", "export_plan", "Export plan", show=False),
        Binding("v", "plan_view", "Plan view", show=False),
        Binding("u", "submit_plan", "Submit plan", show=False),
        Binding("z", "pause", "Pause"),
        Binding("l", "language", "中文"),
        Binding("E", "export_csv", "Export CSV", show=False),
        Binding("escape", "leave", "Back", show=False),
        Binding("enter", "leave_filter", "Keep filter", show=False, priority=True),
    ]

    def __init__(
        self,
        hub: Hub,
        *,
        lang: str = "en",
        refresh_every: float = 5.0,
        clock: bool = True,
        export_dir: Path | None = None,
        notice: str = "",
        read_only: bool = False,
        prometheus: SeriesSource | None = None,
        filters_file: Path | None = None,
    ) -> None:
        super().__init__()
        self.read_only = read_only  # a wall screen: see console.tui.readonly
        self.saved = SavedFilters(filters_file or state_home() / "filters.json")
        self.export_dir = export_dir or state_home() / "exports"
        self.notice = notice  # shown once on start (the demo: how to attach a second console)
        self.freshness = Freshness()
        self._who = ""  # the user, roles and scope, once the hub says
        self.trail: list[Step] = []  # drill-down steps, the first opened first
        self.hub = hub
        self.clock = clock
        self.lang = lang
        self.refresh_every = refresh_every
        self.view = FleetView()
        self._changed: set[str] = set()
        self._events_shown = 0
        self.division_names: dict[str, str] = {}
        self._settled = False  # the whole first snapshot is on screen
        self.allowed: set[str] | None = None  # methods the user may call; None: not known
        self.prometheus = prometheus  # history and trends, with --prometheus

    def compose(self) -> ComposeResult:
        yield Header(show_clock=self.clock)
        yield Static(text(self.lang, "disconnected", address=self.hub.address), id="banner")
        yield LoadingIndicator(id="loading")
        with TabbedContent(id="tabs"):
            for tab in TABS:
                with TabPane(tab_label(self.lang, tab), id=f"tab-{tab}"):
                    yield VIEWS[tab](self.lang)
        yield Footer()

    def on_mount(self) -> None:
        self.translate_footer()
        if self.notice:
            self.notify(self.notice, timeout=30)
        self.sub_title = self.hub.address
        self.set_interval(1.0, self.show_freshness)
        self.query_one("#banner").display = False
        self.query_one("#tabs").display = False
        self.follow()
        self.query_one(History).attach(self.prometheus)
        self.query_one(Situation).attach(self.prometheus)
        self.query_one(Situation).platforms_from(self.hub)
        self.poll_workloads()
        self.identify()
        self.load_filters()

    # -- the hub ----------------------------------------------------------------------

    @work(exclusive=True, group="watch")
    async def follow(self) -> None:
        """Applies the watch stream; reconnects with backoff when the hub goes away."""
        delay = 0.5
        while True:
            if not self.view.ready:  # a first load cut short: start it again from nothing
                self.view.nodes.clear()
            try:
                async for delta in self.hub.watch():
                    self._changed |= self.view.apply(delta)
                    self.freshness.last = time.monotonic()
                    if self.view.ready or self.view.nodes:  # the first load shows as it comes
                        delay = 0.5
                        self.post_message(HubStatus(True))
                        self.post_message(FleetChanged())
            except HubError:
                pass
            self.post_message(HubStatus(False))
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, 10.0)

    @work(exclusive=True, group="whoami")
    async def identify(self) -> None:
        """Shows the user and scope, and hides the actions the user's roles cannot take."""
        try:
            me = await self.hub.whoami()
        except HubError:
            return
        if not me.name:  # a hub without authentication
            return
        scope = me.scope or text(self.lang, "all_divisions")
        self._who = f"{me.name} ({', '.join(me.roles)}) · {scope}"
        self.show_freshness()
        self.allowed = set(me.methods)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.read_only and action in REFUSED:
            return False
        if action == "leave_filter":  # Enter anywhere but in a filter box is the widget's
            return isinstance(self.focused, FilterBox)
        if action in ("workload", "plan_view"):  # v: the plan's next view on Plan, else YAML
            on_plan = self.active_tab() == "plan"
            if on_plan != (action == "plan_view"):
                return False
        needs = _ACTION_METHODS.get(action)
        if needs is None or self.allowed is None:
            return True
        return needs in self.allowed

    @work(exclusive=True, group="workloads")
    async def poll_workloads(self) -> None:
        """Workloads, division names and the list view on screen, every `refresh_every`."""
        while True:
            with contextlib.suppress(HubError):
                statuses = await self.hub.workloads()
                try:
                    self.query_one(Workloads).show(statuses)
                    self.query_one(Plan).track(statuses)
                    overview = self.query_one(Overview)
                    overview.workloads = statuses
                    self.query_one(Situation).show(self.view, statuses)
                    if self.view.ready:
                        overview.refresh_alerts(self.view)
                    if not self.division_names:
                        await self.load_division_names()
                    if self.trail:
                        self.query_one(Nodes).set_scope(self.trail[-1].scope, self.crumb())
                    await self.refresh_lists()
                except NoMatches:  # the app is closing
                    return
            await asyncio.sleep(self.refresh_every)

    async def load_division_names(self) -> None:
        divisions = await self.hub.divisions()
        self.division_names = {d.code: d.name for d in divisions if d.name and d.name != d.code}
        self.query_one(Overview).names = self.division_names
        self.query_one(Sites).names = self.division_names
        self.query_one(Nodes).names = self.division_names
        self.query_one(Clusters).names = self.division_names
        if self.view.nodes:
            self.query_one(Nodes).rebuild(self.view)
        if self.view.ready:
            self.query_one(Overview).refresh_view(self.view)

    async def refresh_lists(self) -> None:
        """Asks the hub for the sites, the policies or the audit log when on screen."""
        active = self.query_one(TabbedContent).active
        if active == "tab-sites":
            self.query_one(Sites).show(await self.hub.sites())
        elif active == "tab-policies":
            self.query_one(Policies).show(await self.hub.policies())
        elif active == "tab-audit":
            audit = self.query_one(Audit)
            try:
                audit.add(await self.hub.audit(audit.since))
            except HubError as err:
                if not err.denied:
                    raise
                audit.refused(err.message)

    @work(exclusive=True, group="lists")
    async def fetch_lists(self) -> None:
        with contextlib.suppress(HubError):
            await self.refresh_lists()

    @work(exclusive=True, group="check")
    async def check_policies(self, source: str, documents: str) -> None:
        pane = self.query_one(Policies)
        try:
            answer = await self.hub.check_policies(documents)
        except HubError as err:
            pane.checked_error(err.message)
            return
        pane.checked(source, answer)

    @work(group="submit")
    async def submit_file(self, path: Path) -> None:
        """Submits every document of a file (or of a folder's .yaml files), one at a time;
        the hub's errors are shown at their file and line."""
        try:
            documents = await asyncio.to_thread(documents_of, path)
            if not documents:  # no `kind`: sent as it is, for the hub to say what is wrong
                raw = await asyncio.to_thread(path.read_text, encoding="utf-8")
                documents = [DocumentText(path, 1, raw)]
        except (OSError, UnicodeDecodeError) as err:
            self.notify(f"{path}: {getattr(err, 'strerror', None) or err}", severity="error")
            return
        errors: list[str] = []
        lines: list[str] = []
        for document in documents:
            try:
                status = await self.hub.submit_workload(document.text)
            except HubError as err:
                errors.append(document.locate(err.message))
                continue
            placed = sum(p.replicas for p in status.placed)
            lines.append(
                f"{status.name}: {placed}/{status.replicas} {text(self.lang, 'placed_word')}"
                + (f"; {reason_text(self.lang, status.reason)}" if status.pending else "")
            )
        done = text(self.lang, "submitted", done=len(lines), total=len(documents), path=path)
        if errors:
            self.notify("\n".join([done, *errors]), severity="error", timeout=30)
        else:
            self.notify("\n".join([done, *lines[:8]]), timeout=10)
        with contextlib.suppress(HubError, OSError):
            self.query_one(Workloads).show(await self.hub.workloads())

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Notifications carry paths and the hub's words (`[/x]` is not markup here)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    @work(exclusive=True, group="explain")
    async def explain_workload(self, name: str) -> None:
        try:
            explanation = await self.hub.explain(name)
        except HubError as err:
            self.notify(err.message, severity="error")
            return
        self.query_one(Workloads).explain(explanation)

    # -- messages ---------------------------------------------------------------------

    @on(Policies.CheckRequested)
    def _check_requested(self, message: Policies.CheckRequested) -> None:
        self.check_policies(message.source, message.documents)

    @on(Workloads.SubmitRequested)
    def _submit_requested(self, message: Workloads.SubmitRequested) -> None:
        self.submit_file(message.path)

    @on(HubStatus)
    def _status(self, message: HubStatus) -> None:
        self.freshness.connected = message.connected
        with contextlib.suppress(NoMatches):  # the app is closing
            self.query_one("#banner").display = not message.connected
        self.show_freshness()

    def show_freshness(self) -> None:
        """The title says whose console it is and how fresh the data is; data that may no
        longer be true is dimmed."""
        now = time.monotonic()
        words = self.freshness.words(self.lang, now)
        # the state first: a narrow terminal cuts the title's end
        mark = MARK[self.lang] if self.read_only else ""
        self.sub_title = " · ".join(p for p in (words, mark, self.hub.address, self._who) if p)
        with contextlib.suppress(NoMatches):
            self.query_one("#tabs").set_class(self.freshness.stale(now), "-stale")

    def action_pause(self) -> None:
        """Freezes the screen (reports keep arriving and are shown on resume)."""
        self.freshness.paused = not self.freshness.paused
        self.show_freshness()
        if not self.freshness.paused:
            self._show_fleet()

    @on(FleetChanged)
    def _fleet(self, _message: FleetChanged) -> None:
        if self.freshness.paused and self._settled:
            return
        with contextlib.suppress(NoMatches):  # the app may be closing
            self._show_fleet()

    def _show_fleet(self) -> None:
        changed, self._changed = self._changed, set()
        if self.query_one("#tabs").display is False:
            self.query_one("#loading").display = False
            self.query_one("#tabs").display = True
        if self.view.ready and not self._settled:
            self._settled = True
            self.call_after_refresh(settle_memory)
        tabs = self.query_one(TabbedContent)
        if tabs.active == "tab-overview":  # only the visible view is redrawn
            self.query_one(Overview).refresh_view(self.view)
        elif tabs.active == "tab-clusters":
            self.query_one(Clusters).refresh_view(self.view)
        self.query_one(Nodes).update(self.view, changed)
        new = self.view.event_count - self._events_shown
        if new:
            self.query_one(Events).add(list(self.view.events)[-new:])
            self._events_shown = self.view.event_count
        self.query_one(Events).elsewhere(self.view.changed_elsewhere, self.view.events_elsewhere)

    # -- actions ----------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette (ctrl+p): every view and action, searchable by name."""
        for command in super().get_system_commands(screen):  # Textual's own, in our language
            key = f"sys_{command.title.lower()}"
            yield command._replace(
                title=text(self.lang, key, default=command.title),
                help=text(self.lang, f"{key}_help", default=command.help),
            )
        for tab in TABS:
            yield SystemCommand(
                f"{text(self.lang, 'show')} {text(self.lang, tab)}",
                text(self.lang, "show_help"),
                partial(self.action_tab, tab),
            )
        for key, action in (
            ("filter", self.action_filter),
            ("submit", self.action_submit),
            ("explain", self.action_explain),
            ("workload", self.action_workload),
            ("run_plan", self.action_run_plan),
            ("export_plan", self.action_export_plan),
            ("plan_view", self.action_plan_view),
            ("submit_plan", self.action_submit_plan),
            ("check_policies", self.action_check_policies),
            ("language", self.action_language),
            ("save_filter", self.action_save_filter),
        ):
            if self.read_only and key in REFUSED:
                continue
            label, what = text(self.lang, f"cmd_{key}"), text(self.lang, f"help_{key}")
            yield SystemCommand(label, what, action)
        for view in ("nodes", "events"):
            for name in self.saved.names(view):
                query = self.saved.get(view, name) or ""
                label = text(self.lang, "cmd_saved_filter", view=text(self.lang, view), name=name)
                yield SystemCommand(label, query, partial(self.recall_filter, view, name))

    def action_tab(self, tab: str) -> None:
        tabs = self.query_one(TabbedContent)
        self.focus_view(tab)  # before the switch, so focus never lands on a hidden input
        tabs.active = f"tab-{tab}"
        if tab == "overview":
            self.query_one(Overview).refresh_view(self.view)
        elif tab == "clusters":
            self.query_one(Clusters).refresh_view(self.view)
        elif tab in ("sites", "policies", "audit"):
            self.fetch_lists()
        elif tab == "history":  # once laid out: hidden views ask Prometheus nothing
            self.call_after_refresh(self.query_one(History).reload)
        elif tab == "situation":
            self.call_after_refresh(self.query_one(Situation).show, self.view)
            self.call_after_refresh(self.query_one(Situation).ask_trend)

    def focus_view(self, tab: str) -> None:
        """Focuses the main widget of `tab`'s view: a view key always lands on its table (on
        the Plan view, the one of its views on screen)."""
        widget = self.query_one(Plan).current() if tab == "plan" else self.query_one(FOCUS[tab])
        self.set_focus(widget, scroll_visible=False)

    @on(TabbedContent.TabActivated)
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        """A view shown by a click or the palette gets its focus too, once it is laid out
        (the palette gives focus back to where it was when it closes)."""
        tab = (event.pane.id or "").removeprefix("tab-")
        if tab in FOCUS:
            self.call_after_refresh(self._focus_if_shown, tab)

    def _focus_if_shown(self, tab: str) -> None:
        """Focuses `tab`'s table unless another view is shown or a box was opened since."""
        if self.active_tab() != tab or isinstance(self.screen, ModalScreen):
            return
        focused = self.focused
        if focused is None or self.query_one(f"#tab-{tab}") not in focused.ancestors:
            self.focus_view(tab)

    def active_tab(self) -> str:
        return (self.query_one(TabbedContent).active or "tab-overview").removeprefix("tab-")

    # -- drill-down -------------------------------------------------------------------

    @on(Tree.NodeSelected, "#divisions")
    def _division_opened(self, event: Tree.NodeSelected[None]) -> None:
        code = str(event.node.label).split(" ", 1)[0]
        if code.isdigit():
            self.drill(Scope("division", code))

    @on(DataTable.RowSelected, "#cluster-table, #site-table")
    def _row_opened(self, event: DataTable.RowSelected) -> None:
        kind = "cluster" if event.data_table.id == "cluster-table" else "site"
        self.drill(Scope(kind, str(event.row_key.value)))

    def drill(self, scope: Scope) -> None:
        """Opens the nodes under `scope`; Escape comes back to where it was opened."""
        self.trail.append(Step(self.active_tab(), scope))
        self.query_one(Nodes).set_scope(scope, self.crumb())
        self.action_tab("nodes")

    def crumb(self) -> str:
        if not self.trail:
            return ""
        scope = self.trail[-1].scope
        nodes = [n for n in self.view.nodes.values() if scope.holds(n)]
        clusters = {n.identity.cluster for n in nodes}
        here = workloads_in(clusters, self.query_one(Overview).workloads)
        return breadcrumb(self.lang, self.trail, self.division_names, len(nodes), here)

    def drill_back(self) -> bool:
        """One step back along the trail; False when there is none."""
        if not self.trail:
            return False
        step = self.trail.pop()
        scope = self.trail[-1].scope if self.trail else None
        self.query_one(Nodes).set_scope(scope, self.crumb())
        self.action_tab(step.tab)
        return True

    def action_leave(self) -> None:
        """Escape: leaves the text input it is typed in (a filter is cleared), or closes the
        node's detail; focus goes back to the view's table."""
        focused = self.focused
        tab = self.active_tab()
        if isinstance(focused, Input):
            if focused.id == "node-filter":
                self.query_one(Nodes).clear_filter()
            elif focused.id == "event-filter":
                self.query_one(Events).clear_filter()
            focused.value = ""
            focused.display = False
        elif tab == "nodes":
            if not self.query_one(Nodes).back() and self.drill_back():
                return
        elif tab == "events":
            self.query_one(Events).clear_filter()
        self.focus_view(tab)

    def action_leave_filter(self) -> None:
        """Enter in a filter box: keeps the filter and gives the keys back to the table."""
        if isinstance(self.focused, FilterBox):
            self.focused.leave()

    def action_check_policies(self) -> None:
        self.action_tab("policies")
        self.query_one(Policies).ask_file()

    def action_help(self) -> None:
        self.push_screen(Help(self.lang, every_binding()))

    def translate_footer(self) -> None:
        """The footer's labels in the interface language (bindings are class-level, so the
        app's own map gets relabelled copies)."""
        for key, bindings in self._bindings.key_to_bindings.items():
            self._bindings.key_to_bindings[key] = [
                replace(b, description=text(self.lang, FOOTER[b.action]))
                if b.action in FOOTER
                else b
                for b in bindings
            ]
        self.refresh_bindings()

    def action_run_plan(self) -> None:
        self.action_tab("plan")
        self.query_one(Plan).ask_folder()

    @on(Input.Submitted, "#plan-path")
    def _plan_folder(self, event: Input.Submitted) -> None:
        event.input.display = False
        folder = Path(event.value.strip()).expanduser()
        files = sorted(folder.glob("*.yaml")) if folder.is_dir() else [folder]
        try:
            documents = "\n---\n".join(f.read_text(encoding="utf-8") for f in files)
        except OSError as err:
            self.notify(f"{folder}: {err.strerror or err}", severity="error")
            return
        if not files:
            self.notify(f"{folder}: no .yaml files", severity="error")
            return
        self.plan(documents)

    @work(exclusive=True, group="plan")
    async def plan(self, documents: str) -> None:
        pane = self.query_one(Plan)
        pane.started(PLAN_TIME_LIMIT)
        try:
            async for event in self.hub.run_plan(documents, time_limit=PLAN_TIME_LIMIT):
                if event.WhichOneof("event") == "progress":
                    p = event.progress
                    pane.progressed(p.elapsed_seconds, p.best_cny, p.bound_cny, p.gap)
                else:
                    pane.names = self.division_names
                    pane.finished(event.result)
        except HubError as err:
            self.notify(err.message, severity="error", timeout=20)

    def action_export_plan(self) -> None:
        pane = self.query_one(Plan)
        if not pane.result_json:
            self.notify(text(self.lang, "no_plan"), severity="warning")
            return
        self.export(export_path(self.export_dir, "plan", "json"), pane.result_json + "\n")

    def action_plan_view(self) -> None:
        """The plan's next view: report, resilience, showback, what was submitted."""
        if self.active_tab() != "plan":
            self.action_tab("plan")
        pane = self.query_one(Plan)
        if not pane.result_json:
            self.notify(text(self.lang, "no_plan"), severity="warning")
            return
        self.set_focus(pane.cycle(), scroll_visible=False)

    def action_submit_plan(self) -> None:
        """Submits the plan's workloads after a yes; the hub checks the role and audits it."""
        if self.active_tab() != "plan":
            self.action_tab("plan")
        result = self.query_one(Plan).result
        if not result.json:
            self.notify(text(self.lang, "no_plan"), severity="warning")
            return
        if result.unsubmittable:
            why = text(self.lang, "plan_unsubmittable", id=result.id, why=result.unsubmittable)
            self.notify(why, severity="error", timeout=20)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.submit_plan(result.id)

        question = text(self.lang, "submit_plan_question", n=len(result.workloads), id=result.id)
        self.push_screen(Confirm(question), answered)

    @work(exclusive=True, group="submit-plan")
    async def submit_plan(self, plan_id: int) -> None:
        try:
            answer = await self.hub.submit_plan(plan_id)
        except HubError as err:
            self.notify(err.message, severity="error", timeout=20)
            return
        pane = self.query_one(Plan)
        pane.submitted_plan(answer)
        self.set_focus(pane.current(), scroll_visible=False)
        done = text(
            self.lang, "plan_submitted", id=plan_id, n=len(answer.workloads),
            pending=answer.pending_replicas,
        )  # fmt: skip
        self.notify(done, severity="warning" if answer.pending_replicas else "information")

    def action_export_csv(self) -> None:
        """Writes the table of the view on screen, as shown, to the export folder."""
        tab = self.active_tab()
        table = self.query_one(Plan).current() if tab == "plan" else self.query_one(FOCUS[tab])
        if not isinstance(table, FleetTable | DataTable):
            self.notify(text(self.lang, "no_table"), severity="warning")
            return
        self.export(export_path(self.export_dir, tab, "csv"), to_csv(table_rows(table)))

    @work(group="export")
    async def export(self, path: Path, content: str) -> None:
        """Writes an export off the event loop; a folder that cannot be written is said."""
        try:
            await asyncio.to_thread(write_export, path, content)
        except OSError as err:
            where = err.filename or path
            self.notify(
                text(self.lang, "export_failed", path=where, why=err.strerror or err),
                severity="error",
                timeout=15,
            )
            return
        self.notify(text(self.lang, "exported", path=path))

    def action_filter(self) -> None:
        """`/` filters the events on the Events view, the nodes anywhere else."""
        if self.active_tab() == "events":
            self.query_one(Events).focus_filter()
            return
        self.action_tab("nodes")
        self.query_one(Nodes).focus_filter()

    def action_submit(self) -> None:
        self.action_tab("workloads")
        self.query_one(Workloads).ask_file()

    def action_explain(self) -> None:
        """Explains the workload under the cursor of the Workloads view; from another view it
        first shows that view (the row it explains is then on screen)."""
        if self.active_tab() != "workloads":
            self.action_tab("workloads")
        name = self.query_one(Workloads).selected()
        if name is None:
            self.notify(text(self.lang, "no_workloads"), severity="warning")
            return
        self.explain_workload(name)

    def action_delete_workload(self) -> None:
        """Deletes the selected workload after a yes; the hub checks the role and audits it."""
        if self.active_tab() != "workloads":
            self.action_tab("workloads")
        name = self.query_one(Workloads).selected()
        if name is None:
            self.notify(text(self.lang, "no_workloads"), severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete_workload(name)

        self.push_screen(Confirm(text(self.lang, "delete_question", name=name)), answered)

    @work(group="delete")
    async def delete_workload(self, name: str) -> None:
        try:
            await self.hub.delete_workload(name)
        except HubError as err:
            self.notify(err.message, severity="error", timeout=15)
            return
        self.notify(text(self.lang, "deleted", name=name))
        with contextlib.suppress(HubError, OSError):
            self.query_one(Workloads).show(await self.hub.workloads())

    def action_workload(self) -> None:
        """The selected workload's stored YAML, and its replica count to change."""
        if self.active_tab() != "workloads":
            self.action_tab("workloads")
        name = self.query_one(Workloads).selected()
        if name is None:
            self.notify(text(self.lang, "no_workloads"), severity="warning")
            return
        self.open_workload(name)

    @work(exclusive=True, group="workload")
    async def open_workload(self, name: str) -> None:
        try:
            document = await self.hub.workload_document(name)
        except HubError as err:
            self.notify(err.message, severity="error", timeout=15)
            return
        replicas = self.query_one(Workloads).replicas_of.get(name, 0)
        may_scale = self.allowed is None or _SCALE in self.allowed

        def chosen(count: int | None) -> None:
            if count is not None:
                self.scale_workload(name, count)

        dialog = WorkloadDialog(self.lang, name, document, replicas, may_scale=may_scale)
        await self.push_screen(dialog, chosen)

    @work(group="scale")
    async def scale_workload(self, name: str, replicas: int) -> None:
        """The hub checks the role, scope and bound, and audits the change."""
        try:
            status = await self.hub.scale_workload(name, replicas)
        except HubError as err:
            self.notify(err.message, severity="error", timeout=15)
            return
        placed = sum(p.replicas for p in status.placed)
        said = text(
            self.lang,
            "scaled",
            name=name,
            replicas=status.replicas,
            placed=placed,
            pending=status.pending,
        )
        self.notify(said)
        with contextlib.suppress(HubError, OSError):
            self.query_one(Workloads).show(await self.hub.workloads())

    # -- saved filters ----------------------------------------------------------------

    def filter_view(self) -> str:
        """The view whose filter `/`, `f` and `F` work on: Events there, else Nodes."""
        return "events" if self.active_tab() == "events" else "nodes"

    def _filter_box(self, view: str) -> Input:
        return self.query_one("#event-filter" if view == "events" else "#node-filter", Input)

    @work(exclusive=True, group="filters")
    async def load_filters(self) -> None:
        try:
            await asyncio.to_thread(self.saved.load)
        except SavedFiltersError as err:
            self.notify(text(self.lang, "filters_unreadable", why=err), severity="error")

    def action_save_filter(self) -> None:
        """Saves the filter of the Nodes (or Events) view under a name it asks for."""
        view = self.filter_view()
        query = self._filter_box(view).value.strip()
        if not query:
            self.notify(
                text(self.lang, "no_filter", view=text(self.lang, view)), severity="warning"
            )
            return

        def named(name: str | None) -> None:
            if name:
                self.saved.put(view, name, query)
                self.write_filters(name)

        self.push_screen(NameFilter(self.lang, query), named)

    @work(group="filters-write")
    async def write_filters(self, name: str) -> None:
        try:
            await asyncio.to_thread(self.saved.write)
        except OSError as err:
            where = err.filename or self.saved.path
            why = err.strerror or err
            self.notify(text(self.lang, "export_failed", path=where, why=why), severity="error")
            return
        self.notify(text(self.lang, "filter_saved", name=name, path=self.saved.path))

    def action_recall_filter(self) -> None:
        """Lists the view's saved filters; the one picked is applied."""
        view = self.filter_view()
        filters = {n: self.saved.get(view, n) or "" for n in self.saved.names(view)}
        if not filters:
            self.notify(text(self.lang, "no_saved_filters", view=text(self.lang, view)))
            return

        def picked(name: str | None) -> None:
            if name is not None:
                self.recall_filter(view, name)

        self.push_screen(PickFilter(self.lang, view, filters), picked)

    def recall_filter(self, view: str, name: str) -> None:
        query = self.saved.get(view, name)
        if query is None:
            return
        if self.active_tab() != view:
            self.action_tab(view)
        box = self._filter_box(view)
        box.value = query  # filters as typing would
        box.display = True
        self.focus_view(view)

    def action_language(self) -> None:
        self.lang = "zh" if self.lang == "en" else "en"
        self.translate_footer()
        for tab in TABS:
            self.query_one(TabbedContent).get_tab(f"tab-{tab}").label = tab_label(self.lang, tab)
        for pane in (
            self.query_one(Overview), self.query_one(Nodes), self.query_one(Plan),
            self.query_one(Events),
        ):  # fmt: skip
            pane.lang = self.lang
        self.query_one(Events).relabel()
        self.query_one(Audit).lang = self.lang
        self.query_one(Audit).relabel()
        self.query_one(Plan).relabel()
        self.query_one(Overview).refresh_view(self.view)
        self.query_one(Nodes).rebuild(self.view)
        for listing in (
            self.query_one(Clusters), self.query_one(Sites), self.query_one(Workloads),
            self.query_one(Policies), self.query_one(Situation), self.query_one(History),
        ):  # fmt: skip
            listing.lang = self.lang
            listing.relabel()
        self.fetch_lists()
