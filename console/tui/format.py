"""Small text helpers of the console: bars, states and sizes."""

from __future__ import annotations

from rich.text import Text

from console.model.quantity import format_bytes
from tongchou import states

STATE_STYLES = {"ready": "green", "stale": "yellow", "lost": "bold red"}


def bar(used: float, total: float, width: int = 12) -> Text:
    """A capacity bar like htop's, green to red by share."""
    share = min(1.0, used / total) if total else 0.0
    filled = round(share * width)
    style = "green" if share < 0.6 else "yellow" if share < 0.85 else "red"
    out = Text("█" * filled, style=style)
    out.append("░" * (width - filled), style="grey35")
    out.append(f" {share:4.0%}")
    return out


def state_text(state: int, label: str) -> Text:
    return Text(label, style=STATE_STYLES.get(states.name(state), ""))


def size(value: float) -> str:
    return format_bytes(value)
