"""Chinese first: every label has a Chinese translation, and no English label shows on any
view in Chinese (data such as node names stays as it is)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from console.tui.app import TongchouApp
from console.tui.i18n import KINDS, LABELS, LEVELS, STATES
from tests.tui.fake_hub import FakeHub, snapshot
from tests.tui.screen_text import screen_text
from tests.tui.test_app import until
from tests.tui.test_keys import shown
from tongchou.v1 import inventory_pb2, workloads_pb2


def test_every_label_has_a_chinese_translation() -> None:
    missing = sorted(set(LABELS["en"]) - set(LABELS["zh"]))
    assert not missing, f"labels without Chinese: {missing}"
    assert set(LEVELS["zh"]) == set(LEVELS["en"]) and set(STATES["zh"]) == set(STATES["en"])
    assert {"registered", "ready", "stale", "lost", "placement", "failover"} <= set(KINDS["zh"])


def english_words() -> set[str]:
    """The English labels that differ from their Chinese ones, as whole phrases of letters."""
    out = set()
    for key, english in LABELS["en"].items():
        if english == LABELS["zh"].get(key):
            continue
        for part in re.split(r"\{[^}]*\}|[:;,.()/—…·]", english):
            phrase = part.strip()
            if len(phrase) >= 5 and re.fullmatch(r"[A-Za-z][A-Za-z ']+", phrase):
                out.add(phrase)
    return out - {"English", "Export plan"}


@pytest.mark.parametrize("size", [(100, 30), (200, 50)])
async def test_no_english_label_on_any_view_in_chinese(
    size: tuple[int, int], tmp_path: Path
) -> None:
    hub = FakeHub([snapshot(24)])
    hub.statuses.append(
        workloads_pb2.WorkloadStatus(name="video", replicas=3, pending=2, reason="no room")
    )
    hub.push(
        inventory_pb2.InventoryDelta(
            events=[inventory_pb2.Event(kind="lost", subject="node-003", message="silent")]
        )
    )
    app = TongchouApp(hub, lang="zh", refresh_every=0.1, clock=False)
    words = english_words()
    seen: dict[str, list[str]] = {}
    async with app.run_test(size=size) as pilot:
        await shown(pilot, app)
        await until(pilot, lambda: bool(app.division_names), "the names")
        for key in ("o", "n", "c", "t", "w", "y", "p", "e", "a", "question_mark"):
            await pilot.press(key)
            await pilot.pause(0.3)
            screen = "\n".join(screen_text(app))
            found = sorted(w for w in words if w in screen)
            if found:
                seen[key] = found
            if key == "question_mark":
                await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause(0.5)
        screen = "\n".join(screen_text(app))
        found = sorted(w for w in words if w in screen)
        if found:
            seen["palette"] = found
    assert not seen, f"English on Chinese screens: {seen}"
