"""Every reason the scheduler gives has a shape in the catalogs, so a console shows it in
Chinese: a reason in a new shape (or a shape without Chinese) fails here."""

from __future__ import annotations

import re

import pytest

from console.documents import build_fleet, load_documents, workloads_of
from console.documents.builtin import with_guardrails
from console.documents.placement import policies_of
from console.scheduler import Scheduler
from console.scheduler.result import Placement
from tests.samples import ROOT, SAMPLE
from tongchou.i18n import translate_composed

from .builders import C, N, S, fleet, workload
from .strategies import DEFAULT_POLICIES
from .test_causes import why

ENGLISH = re.compile(r"(?<![\w.-])[A-Za-z]{2,}[ ;:,]+[a-z]{2,}(?![\w-])")
"""Two English words in a row: untranslated text (names, units and policy names are single
words)."""


def scenarios() -> list[Placement]:
    """Workloads that end in every kind of reason, and the sample province explained."""
    out = [
        why([C("gd-0", "s0", mlps=3), C("sz-0", "s1", mlps=2)], mlps=4, replicas=2),
        why([C("gd-x86", "a"), C("gd-arm", "b", nodes=(N(arch="aarch64", chip="kunpeng-920"),))],
            archs=("loongarch64",), replicas=2),
        why([C("gd-a", "a", nodes=(N(cpu=32, memory=128, count=4),)),
             C("gd-b", "b", nodes=(N(cpu=64, memory=256, used_cpu=40),))],
            cpu=48, memory=16, replicas=1),
        why([C("gd-a", "a", nodes=(N(cpu=32, memory=128, used_cpu=28),))], cpu=1, replicas=2),
        why([C("gd-a", "a", nodes=(N(cpu=8, memory=64),))], cpu=2, replicas=5),
        why([C("gd-a", "a"), C("gd-b", "a")], min_sites=2, replicas=4),
        why([C("gd-a", "a"), C("gd-b", "a")], min_sites=3, replicas=2),
        Scheduler(
            fleet([C("gd-low", "a", mlps=2), C("sz-own", "sz", shared=False)],
                  [S("a"), S("sz", division="440300")]),
            DEFAULT_POLICIES,
        ).place(workload(mlps=3), explain=True),
    ]  # fmt: skip
    documents = load_documents([SAMPLE, SAMPLE / "workloads", ROOT / "policies"])
    policies = with_guardrails(policies_of(documents)).policies
    sample = Scheduler(build_fleet(documents), policies)
    out += sample.schedule(workloads_of(documents), explain=True)
    return out


def reasons(placements: list[Placement]) -> set[str]:
    found = set()
    for p in placements:
        found |= {p.reason, p.summary}
        found |= {v.reason for v in p.verdicts or ()}
    return found - {""}


@pytest.fixture(scope="module")
def said() -> set[str]:
    return reasons(scenarios())


def test_every_reason_reads_in_chinese(said: set[str]) -> None:
    assert len(said) >= 15  # the scenarios give many shapes
    left = {}
    for reason in said:
        chinese = translate_composed("zh", reason)
        if ENGLISH.search(chinese):
            left[reason] = chinese
    assert not left, "\n".join(f"{k}\n  → {v}" for k, v in sorted(left.items()))


def test_values_and_names_pass_through(said: set[str]) -> None:
    mlps = next(r for r in said if r.startswith("no cluster at MLPS level 4"))
    assert translate_composed("zh", mlps).startswith(
        "不存在等保 4 级的集群（有就绪节点的集群最高为 3 级）"
    )
    assert translate_composed("en", mlps) == mlps
    unknown = "a sentence in no catalog"
    assert translate_composed("zh", unknown) == unknown
