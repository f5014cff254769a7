"""Small rooms: no source file over 400 lines and no function over 60, except where a reason is
stated below; and no import cycle between the project's modules."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TypeGuard

import grimp

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("tongchou", "agent", "console")
SOURCES = (*PACKAGES, "bench", "scripts")
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60

LONG_FILES = {
    "console/scheduler/scheduler.py": "filter, fit, score and divide share one snapshot's "
    "arrays and caches; the explanation reads them in the same pass",
    "console/tui/app.py": "the App's key bindings and screen switching, one entry per view",
    "console/planner/milp.py": "one HiGHS model: columns, rows, warm start and the progress "
    "callback share its indices",
    "console/hub/api/scope.py": "every scoped method's request check and answer narrowing, "
    "kept beside the one table that binds them to the permission table",
    "console/security/authz.py": "the deny-by-default table of every method and its roles, "
    "with the interceptor that enforces it",
    "agent/hostinfo.py": "one detector per 信创 chip family and OS family, read from real "
    "cpuinfo and os-release samples",
    "agent/transport/via_h2.py": "one HTTP/2 connection's state machine (frames, flow control, "
    "streams) for the pure-Python gRPC client",
}
LONG_FUNCTIONS = {
    "console/planner/milp.py:_solve": "one HiGHS model: columns, rows and the progress "
    "callback share its indices",
    "console/scheduler/scheduler.py:_vector": "one CEL term per policy form, evaluated over "
    "the snapshot's arrays",
    "console/scheduler/scheduler.py:place": "filter, fit, score and divide over one set of "
    "arrays, with the explanation",
    "console/store/audit.py:verify_chain": "one walk of the chain, each way it can break answered "
    "where it is found",
    "bench/plan.py:instance": "a benchmark instance written out document by document",
    "bench/agent_footprint.py:main": "a benchmark's steps in the order it prints them",
    "agent/metrics.py:collect": "the agent's exposition written family by family, in the "
    "order promtool reads it",
    "console/planner/emit.py:emit": "the plan's Workload, policy and NodePool documents "
    "written in one pass over its decisions",
}


def _sources() -> list[Path]:
    files = []
    for top in SOURCES:
        files += [p for p in (ROOT / top).rglob("*.py") if "v1" not in p.relative_to(ROOT).parts]
    return sorted(files)


def test_no_source_file_is_over_400_lines_without_a_reason() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in _sources()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES
    }
    assert {path: n for path, n in long.items() if path not in LONG_FILES} == {}


def test_no_function_is_over_60_lines_without_a_reason() -> None:
    long = {}
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                span = (node.end_lineno or node.lineno) - node.lineno + 1
                key = f"{path.relative_to(ROOT)}:{node.name}"
                if span > MAX_FUNCTION_LINES and key not in LONG_FUNCTIONS:
                    long[key] = span
    assert long == {}


def test_no_import_cycle() -> None:
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False)
    modules = {m for m in graph.modules if not m.startswith("tongchou.v1")}
    cycles = [
        (a, b)
        for a in sorted(modules)
        for b in graph.find_modules_directly_imported_by(a)
        if b in modules and a != b and graph.chain_exists(importer=b, imported=a)
    ]
    assert cycles == []


ANSWERS = {"ReportAck", "RelayAck", "Refusal", "Command"}
"""The messages the hub answers agents and relays with."""


def _builds_an_answer(node: ast.AST) -> TypeGuard[ast.Call]:
    """`agent_pb2.ReportAck(...)`, or `ack.commands.add(...)` and the like."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    func = node.func
    if func.attr in ANSWERS:
        return isinstance(func.value, ast.Name) and func.value.id.endswith("_pb2")
    owner = func.value
    return (
        func.attr == "add"
        and isinstance(owner, ast.Attribute)
        and owner.attr in {"commands", "refusals"}
    )


def test_only_the_message_builder_builds_the_answers_to_agents_and_relays() -> None:
    builders = {
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in sorted((ROOT / "console" / "hub").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if _builds_an_answer(node)
    }
    assert {b for b in builders if not b.startswith("console/hub/api/messages.py:")} == set()
