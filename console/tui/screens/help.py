"""The help screen: every key of the console, in the interface language."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = {
    "en": [
        ("o n c w p e", "Overview, Nodes, Clusters, Workloads, Plan, Events"),
        ("/", "filter nodes: text, label=value, or ready/stale/lost"),
        ("s", "submit a Workload YAML file"),
        ("x", "explain the selected workload"),
        ("r", "run the planner on a folder of planning documents"),
        ("l", "English ↔ 中文"),
        ("ctrl+p", "command palette"),
        ("q", "quit"),
    ],
    "zh": [
        ("o n c w p e", "总览、节点、集群、工作负载、规划、事件"),
        ("/", "筛选节点：文本、标签=值、或 就绪/失联/丢失 (ready/stale/lost)"),
        ("s", "提交工作负载 YAML 文件"),
        ("x", "查看所选工作负载的调度说明"),
        ("r", "对规划文件目录运行统筹规划"),
        ("l", "English ↔ 中文"),
        ("ctrl+p", "命令面板"),
        ("q", "退出"),
    ],
}


class Help(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close"),
    ]
    DEFAULT_CSS = """
    Help { align: center middle; }
    Help > Vertical { width: 80; height: auto; border: round $accent; padding: 1 2;
                      background: $surface; }
    """

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def compose(self) -> ComposeResult:
        lines = [f"[b]{key:<12}[/b] {what}" for key, what in KEYS.get(self.lang, KEYS["en"])]
        with Vertical():
            yield Static("\n".join(lines), id="help-text")
