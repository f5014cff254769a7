"""Nothing waits on the loop: no function of the hub, and no coroutine of the security
services, calls a blocking store method itself.

The hub's code hands a store method to a worker thread (`asyncio.to_thread(self.store.x,
...)`, `run_in_executor`), which passes the method without calling it. A direct call
(`self.store.x(...)`, `self.manager.store.x(...)`, `self.credentials.x(...)`) in a coroutine
blocks the event loop on disk; in a plain function it blocks the loop as soon as a coroutine
calls that function. Functions that run on a worker thread or before the hub serves are
listed below with the reason.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path

from console.store.base import InventoryStore
from console.store.credentials import Credentials
from console.store.executor_state import ExecutorState

ROOT = Path(__file__).resolve().parents[2]
HUB = ROOT / "console" / "hub"
SECURITY = ROOT / "console" / "security"  # its commands call the store directly: coroutines only


def _methods(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls, callable) if not name.startswith("_")}


BLOCKING = {
    "store": _methods(InventoryStore),
    "credentials": _methods(Credentials),
    "state": _methods(ExecutorState),
}
"""An attribute or variable of this name → the methods of its type that wait on disk."""

OFF_THE_LOOP = {
    "console/hub/fleet/flusher.py:_write": "runs on a worker thread (Flusher.flush builds the "
    "rows and writes them there)",
    "console/hub/control/workloads.py:read_records": "runs on a worker thread "
    "(WorkloadManager.load, the replicas' sync)",
    "console/hub/server.py:load_fleet": "takes the fleet documents before the hub serves "
    "(the command, the demo and tests call it before start)",
    "console/hub/control/reconcile.py:__init__": "reads the executor's state while the hub "
    "is assembled, before it serves (a new leader's reload runs on a worker thread)",
}


def _blocking_calls(
    tree: ast.Module, *, coroutines_only: bool = False
) -> Iterator[tuple[str, int, str]]:
    """(function, line, call) for each direct call of a blocking store method."""
    kinds = ast.AsyncFunctionDef if coroutines_only else (ast.FunctionDef, ast.AsyncFunctionDef)
    for func in ast.walk(tree):
        if not isinstance(func, kinds):
            continue
        for node in ast.walk(func):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if node.func.attr in BLOCKING.get(name, ()):
                yield func.name, node.lineno, ast.unparse(node.func)


def test_no_function_of_the_hub_calls_a_blocking_store_method() -> None:
    found = []
    for path in sorted(HUB.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for function, line, call in _blocking_calls(ast.parse(path.read_text("utf-8"))):
            if f"{rel}:{function}" not in OFF_THE_LOOP:
                found.append(f"{rel}:{line} {function}() calls {call}(...)")
    assert not found, "blocking store calls on the event loop:\n" + "\n".join(found)


def test_no_coroutine_of_the_security_services_calls_a_blocking_store_method() -> None:
    found = []
    for path in sorted(SECURITY.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text("utf-8"))
        for function, line, call in _blocking_calls(tree, coroutines_only=True):
            found.append(f"{rel}:{line} {function}() calls {call}(...)")
    assert not found, "blocking store calls on the event loop:\n" + "\n".join(found)


def test_the_check_sees_a_direct_call_and_not_a_handed_over_one() -> None:
    code = (
        "async def bad(self):\n    self.manager.store.save_placements([])\n"
        "async def good(self):\n    await asyncio.to_thread(self.store.save_placements, [])\n"
        "def helper(store):\n    store.delete_workload('x')\n"
    )
    found = [(f, call) for f, _line, call in _blocking_calls(ast.parse(code))]
    assert found == [
        ("bad", "self.manager.store.save_placements"),
        ("helper", "store.delete_workload"),
    ]


def test_every_exception_is_still_needed() -> None:
    used = set()
    for path in sorted(HUB.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        used |= {f"{rel}:{f}" for f, _, _ in _blocking_calls(ast.parse(path.read_text("utf-8")))}
    assert set(OFF_THE_LOOP) <= used, sorted(set(OFF_THE_LOOP) - used)
