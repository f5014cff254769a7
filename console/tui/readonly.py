"""Read-only consoles (wall screens, `--read-only`): the actions they refuse, and their mark.

A read-only console changes nothing in the hub (no workload submitted or deleted, no plan
run and stored), reads no file of the machine it runs on and writes none (no policy
check of a path, no export): what a browser in front of a wall screen could ask of the
machine serving it.
"""

from __future__ import annotations

from console.tui.i18n import LABELS, text

REFUSED = frozenset(
    {"submit", "delete_workload", "run_plan", "check_policies", "export_plan", "export_csv"}
)
"""The app's actions a read-only console neither shows nor runs."""

MARK = {lang: text(lang, "read_only_mark") for lang in LABELS}
"""Shown in the title of a read-only console."""
