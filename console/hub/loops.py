"""The hub's periodic work uses `tongchou.loops`, the one helper the agent and simulator share."""

from __future__ import annotations

from tongchou.loops import every, pause

__all__ = ["every", "pause"]
