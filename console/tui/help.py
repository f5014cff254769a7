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
        ("o n c t", "Overview, Nodes, Clusters, Sites"),
        ("w y p e", "Workloads, Policies, Plan, Events"),
        ("/", "filter nodes: text, label=value, or ready/stale/lost"),
        ("> < !", "node table: sort by the next / previous column, reverse"),
        ("enter", "node table: open or close the node's detail"),
        ("s", "submit a Workload YAML file"),
        ("x", "explain the selected workload"),
        ("r", "run the planner on a folder of planning documents"),
        ("j", "export the plan as JSON"),
        ("k", "check a PlacementPolicy file against the hub's workloads"),
        ("l", "English ↔ 中文"),
        ("ctrl+p", "command palette"),
        ("q", "quit"),
    ],
    "zh": [
        ("o n c t", "总览、节点、集群、站点"),
        ("w y p e", "工作负载、调度策略、规划、事件"),
        ("/", "筛选节点：文本、标签=值、或 就绪/失联/丢失 (ready/stale/lost)"),
        ("> < !", "节点表：按下一列 / 上一列排序，反向"),
        ("enter", "节点表：打开或关闭节点详情"),
        ("s", "提交工作负载 YAML 文件"),
        ("x", "查看所选工作负载的调度说明"),
        ("r", "对规划文件目录运行统筹规划"),
        ("j", "导出规划结果 JSON"),
        ("k", "用中枢的工作负载检查调度策略文件"),
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
