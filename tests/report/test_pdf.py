"""`tongchou report` against a live hub (and its Prometheus): the PDF is rendered by
chromium, then read back with poppler: its pages, that none is blank, and its words."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.client import HubClient
from console.report.month import CST
from tests.e2e.conftest import ROOT, SAMPLE, HubProc, Launcher
from tests.e2e.test_prometheus import start_prometheus, wait_for
from tests.e2e.waiting import eventually
from tests.report.conftest import page_count, pages_inked, pdf_text
from tests.web.conftest import artifacts, system_tool

pytestmark = pytest.mark.slow
PLANNING = ROOT / "examples" / "guangdong" / "planning"
WORKLOADS = ROOT / "examples" / "guangdong" / "workloads"
MONTH = datetime.now(CST).strftime("%Y-%m")
HEADINGS = {
    "zh": [
        "政务云统筹月度报告",
        "一、总体情况",
        "二、资源利用与闲置",
        "四、统筹规划节约",
        "五、各地区费用分摊",
        "六、等保合规",
        "信创占比",
        "各地自建总成本",
        "天河区",
    ],
    "en": [
        "Government cloud monthly report",
        "1. Summary",
        "2. Utilisation and idle capacity",
        "4. Savings of the unified plan",
        "5. Showback per division",
        "6. MLPS (等保) compliance",
        "Cost if every locality built its own",
        "天河区",
    ],
}


def report(hub: HubProc, out: Path, *extra: str) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tongchou",
            "report",
            "--month",
            MONTH,
            "--hub",
            hub.address,
            "--insecure",
            "-o",
            str(out),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    said = "已写入" if "zh" in extra else "wrote"  # --lang zh: the messages too
    assert f"tongchou report: {said} {out}" in done.stdout
    return done.stderr


async def live_hub(launch: Launcher, nodes: int) -> tuple[HubProc, float]:
    """A hub with `nodes` simulated nodes, the sample's workloads, and one plan run; the
    plan's savings."""
    hub = launch.hub("--fleet", str(SAMPLE))
    launch.spawn(
        "simulate", "simulate", "--fleet", str(SAMPLE), "--hub", hub.address, "--limit", str(nodes)
    )
    async with HubClient(hub.address) as client:

        async def ready() -> int | None:
            summary = await client.fleet_summary()
            return summary.totals.nodes_ready if summary.totals.nodes_ready >= nodes else None

        await eventually(ready, timeout=40, what="the simulated nodes")
        for path in sorted(WORKLOADS.glob("*.yaml")):
            for document in path.read_text(encoding="utf-8").split("\n---\n"):
                if "kind: Workload" in document:
                    await client.submit_workload(document)
        planning = "\n---\n".join(p.read_text("utf-8") for p in sorted(PLANNING.glob("*.yaml")))
        events = [event async for event in client.run_plan(planning, time_limit=10)]
        savings = json.loads(events[-1].result.json)["savingsCny"]
    return hub, float(savings)


async def test_the_report_from_the_hubs_state_in_chinese_and_english(
    launch: Launcher, tmp_path: Path
) -> None:
    system_tool("chromium", "chromium")
    hub, savings = await live_hub(launch, 200)
    keep = artifacts(tmp_path)
    for lang in ("zh", "en"):
        pdf = keep / f"report-{MONTH}-{lang}.pdf"
        report(hub, pdf, "--lang", lang)
        pages = page_count(pdf)
        assert 3 <= pages <= 12
        inked = pages_inked(pdf, tmp_path / f"pages-{lang}")
        assert len(inked) == pages
        assert all(share > 0.0005 for share in inked), inked  # no blank page
        text = pdf_text(pdf)
        for heading in HEADINGS[lang]:
            assert heading in text, heading
        said = "未指定 Prometheus" if lang == "zh" else "No Prometheus given"
        assert said in text
        money = f"{savings / 1e6:,.2f}"
        assert money in text  # the plan's savings, in millions of yuan
        assert "3. The month's trend" not in text and "三、本月趋势" not in text


async def test_the_report_with_the_months_history_from_prometheus(
    launch: Launcher, tmp_path: Path
) -> None:
    system_tool("chromium", "chromium")
    prometheus = system_tool("prometheus", "prometheus")
    hub, _savings = await live_hub(launch, 60)
    base = start_prometheus(prometheus, tmp_path, launch, {"tongchou-hub": hub.metrics_port})

    def scraped() -> bool:
        from tests.e2e.test_prometheus import api

        found = api(base, "query", query="tongchou_hub_cluster_cpu_used_cores")["result"]
        return len(found) > 0

    wait_for(scraped, "the hub's series in Prometheus")
    pdf = artifacts(tmp_path) / f"report-{MONTH}-history.pdf"
    report(hub, pdf, "--prometheus", base)
    text = pdf_text(pdf)
    assert "三、本月趋势" in text
    assert f"趋势图数据来自 Prometheus（{base}）" in text.replace("\n", "")
    assert "各层级 CPU 利用率" in text
    assert "未指定 Prometheus" not in text
    inked = pages_inked(pdf, tmp_path / "pages")
    assert all(share > 0.0005 for share in inked), inked
    assert datetime.now(UTC).year >= 2026
