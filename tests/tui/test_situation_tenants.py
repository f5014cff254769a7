"""Platform tenants in the situation view (态势): the shared platforms' instances and tenants per
MLPS level, an instance on a site below the platform's level in red with its tenants, on a
100×30 terminal and a 200×50 wall screen, in English and Chinese; and what the view says when
the hub has no catalog or does not serve it."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from console.tui.app import TongchouApp
from console.tui.panes.situation import Situation
from tests.tui.fake_hub import FakeHub
from tests.tui.screen_text import screen_text
from tests.tui.situation_fleet import hub, platforms


async def situation(pilot: Pilot[Any], word: str) -> str:
    """The situation view's screen once `word` is on it."""
    app = pilot.app
    assert isinstance(app, TongchouApp)
    for _ in range(200):
        if app.view.ready and app.division_names:
            break
        await pilot.pause(0.05)
    await pilot.press("b")
    for _ in range(200):
        screen = "\n".join(screen_text(app))
        if word in screen:
            return screen
        await pilot.pause(0.05)
    raise AssertionError(f"{word!r} never shown:\n{screen}")


@pytest.mark.parametrize(
    ("lang", "size", "words"),
    [
        ("en", (100, 30), ["Platforms", "Tenants", "统一身份认证 (等保 3) at site-440305 (等保 2)",
                           "its tenants: 440305, 440304"]),
        ("zh", (200, 50), ["共享平台", "租户", "统一身份认证(等保 3)部署于 site-440305(等保 2)",
                           "其租户:440305, 440304"]),
    ],
)  # fmt: skip
async def test_tenants_per_level_and_those_below_it(
    lang: str, size: tuple[int, int], words: list[str]
) -> None:
    app = TongchouApp(hub(), lang=lang, clock=False)
    async with app.run_test(size=size) as pilot:
        screen = await situation(pilot, "site-440305")
        for word in words:
            assert word in screen, f"{word!r} not on the {size} screen:\n{screen}"
        rows = {r.level: r for r in app.query_one(Situation).figures.mlps}
        assert (rows[2].platforms, rows[2].tenants) == (1, 3)
        assert (rows[3].platforms, rows[3].tenants) == (3, 7)
        # the MLPS-2 row: 1 workload, 2 replicas, 1 cluster, 1 platform, 3 tenants
        level2 = "等保 2" if lang == "en" else "等保2级"
        row = next(line for line in screen.splitlines() if line.strip().startswith(level2))
        assert row.split(level2, 1)[1].split()[:5] == ["1", "2", "1", "1", "3"]
        drawn = app.query_one(Situation)._tenants_below()
        red = {drawn.plain[s.start : s.end] for s in drawn.spans if "red" in str(s.style)}
        assert any("site-440305" in part for part in red)
        assert any("440305, 440304" in part for part in red)


async def test_tenants_outside_the_scope_are_counted() -> None:
    fake = hub()
    low = platforms()[2]
    del low.tenants[1:]
    low.tenants_elsewhere = 2
    fake.platforms = [low]
    app = TongchouApp(fake, lang="en", clock=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await situation(pilot, "its tenants: 440305 + 2 outside the scope")


async def test_none_below_is_said_in_green() -> None:
    fake = hub()
    fake.platforms = [p for p in platforms() if p.site_mlps_level >= p.mlps_level]
    app = TongchouApp(fake, lang="zh", clock=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await situation(pilot, "无租户使用低于其等保等级的平台")


@pytest.mark.parametrize(
    ("served", "says"),
    [
        (True, "the hub has no catalog (--catalog)"),
        (False, "this hub does not serve them"),
    ],
)
async def test_without_a_catalog_the_view_says_why(served: bool, says: str) -> None:
    fake: FakeHub = hub()
    fake.platforms, fake.platforms_served = [], served
    app = TongchouApp(fake, lang="en", clock=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await situation(pilot, says)
        assert "site-440305" not in screen
        assert fake.platform_asks == 1
