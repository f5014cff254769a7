"""What crashed the console, or lost an operator's work: each now a clear message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static, TabbedContent

from console.tui.app import TongchouApp
from console.tui.i18n import default_lang
from tests.tui.fake_hub import FakeHub, snapshot
from tests.tui.test_app import until
from tests.tui.test_keys import shown

SIZE = (140, 40)


def notes(app: TongchouApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_export_to_a_folder_that_cannot_be_written_says_so(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n", encoding="utf-8")
    planning = tmp_path / "planning"
    planning.mkdir()
    (planning / "demands.yaml").write_text("kind: Demand\n", encoding="utf-8")
    app = TongchouApp(FakeHub([snapshot(3)]), export_dir=blocker / "exports")
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        await pilot.press("r", *str(planning), "enter")
        await until(pilot, lambda: bool(app.query_one("#plan").result_json), "the plan")  # type: ignore[attr-defined]
        await pilot.press("j")
        await until(pilot, lambda: any("cannot write" in n for n in notes(app)), "the error")
        assert any(str(blocker) in n for n in notes(app))
        assert app.is_running


async def test_a_path_with_markup_brackets_is_shown_as_it_is(tmp_path: Path) -> None:
    app = TongchouApp(FakeHub([snapshot(3)]))
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        odd = f"{tmp_path}/x[/x]"
        await pilot.press("r", *odd, "enter")
        await until(pilot, lambda: any("[/x]" in n for n in notes(app)), "the error")
        await pilot.press("s", *odd, "enter")
        await pilot.pause(0.3)
        assert app.is_running


async def test_submit_a_file_of_many_documents_with_errors_at_their_line(tmp_path: Path) -> None:
    def workload(name: str, level: int) -> str:
        return (
            f"apiVersion: tongchou.io/v1\nkind: Workload\nmetadata:\n  name: {name}\n"
            f"spec:\n  mlpsLevel: {level}\n"
        )

    path = tmp_path / "three.yaml"
    text = "---\n".join([workload("portal", 3), workload("broken", 9), workload("video", 2)])
    path.write_text(text, encoding="utf-8")
    hub = FakeHub([snapshot(6)])
    app = TongchouApp(hub, refresh_every=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        await pilot.press("s", *str(path), "enter")
        table = app.query_one("#workload-table", DataTable)
        await until(pilot, lambda: table.row_count == 2, "two workloads")
        assert len(hub.submitted) == 3
        # the bad level is on line 13 of the file (line 6 of its document)
        await until(pilot, lambda: any(f"{path}:13:14" in n for n in notes(app)), "the error")
        assert any("2 of 3 documents submitted" in n for n in notes(app))


def test_console_without_a_terminal_says_so_and_exits_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tongchou", "console", "--insecure", "--hub", "127.0.0.1:9"],
        check=False,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "needs a terminal" in done.stderr


def test_the_language_defaults_from_the_locale() -> None:
    assert default_lang({"LANG": "zh_CN.UTF-8"}) == "zh"
    assert default_lang({"LANG": "en_US.UTF-8"}) == "en"
    assert default_lang({"LANGUAGE": "zh_TW:en", "LANG": "en_US.UTF-8"}) == "zh"
    assert default_lang({"LC_ALL": "C.UTF-8", "LANG": "zh_CN.UTF-8"}) == "en"
    assert default_lang({}) == "en"


@pytest.mark.parametrize("command", [["workload", "list"], ["console"]])
def test_no_tls_flags_is_an_error_not_plaintext(command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tongchou", *command, "--hub", "127.0.0.1:9"]
        if command[0] == "console"
        else [sys.executable, "-m", "tongchou", "workload", "--hub", "127.0.0.1:9", "list"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TONGCHOU_TOKEN": ""},
    )
    assert done.returncode == 2, done.stderr
    assert "give --tls-ca, --tls-cert and --tls-key" in done.stderr
    assert "--insecure" in done.stderr


async def test_explain_lists_every_cluster_grouped_and_why_an_eligible_one_got_none(
    tmp_path: Path,
) -> None:
    document = tmp_path / "portal.yaml"
    document.write_text("apiVersion: tongchou.io/v1\nkind: Workload\nmetadata:\n  name: portal\n")
    hub = FakeHub([snapshot(6)])
    app = TongchouApp(hub, refresh_every=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await shown(pilot, app)
        await pilot.press("s", *str(document), "enter")
        table = app.query_one("#workload-table", DataTable)
        await until(pilot, lambda: table.row_count == 1, "the workload")
        await pilot.press("o", "x")  # from another view: Workloads is shown, then explained
        shown_text = app.query_one("#explanation", Static)
        await until(pilot, lambda: "town-29" in str(shown_text.render()), "every cluster")
        body = str(shown_text.render())
        assert app.query_one(TabbedContent).active == "tab-workloads"
        assert "✗ 30 · mlps: MLPS level below" in body
        assert "1 eligible clusters given none: eligible; the replicas went to clusters" in body
        assert "every one of the 33 clusters is listed above" in body


def test_the_log_file_rotates(tmp_path: Path) -> None:
    import logging

    from tongchou import logfile

    handler = logfile.log_to_file(tmp_path / "state" / "hub.log")
    try:
        handler.maxBytes = 2000
        for i in range(200):
            logging.getLogger("tongchou.test").info("line %d of the rotated log", i)
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    names = sorted(p.name for p in (tmp_path / "state").iterdir())
    assert names[:3] == ["hub.log", "hub.log.1", "hub.log.2"] and len(names) == 6  # 5 kept
