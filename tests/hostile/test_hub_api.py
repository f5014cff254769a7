"""Every console API that takes YAML refuses the hostile corpus with INVALID_ARGUMENT within a
time bound, while a probe agent's reports keep being acknowledged; scope is checked on the
typed documents; a full disk leaves memory as it was."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

from console.client import HubClient
from console.simulate.runner import Simulator
from console.store import SqliteStore
from console.store.credentials import User
from tongchou.v1 import security_pb2, security_pb2_grpc

from .corpus import CORPUS, laughs
from .secure_hub import CALL_SECONDS, Api, code_of

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "guangdong"

# A valid workload in the sample province is no refusal: left out of the API corpus.
API_CORPUS = [bad for bad in CORPUS if bad.id != "date-image"]


def workload(name: str, owner: str, memory: str = "1Gi", extra: str = "") -> str:
    return (
        f"apiVersion: tongchou.io/v1\nkind: Workload\nmetadata: {{name: {name}}}\n"
        f"spec: {{owner: {owner}, replicas: 1, resources: {{cpu: 1, memory: {memory}}}, "
        f"image: registry.example/app:1, mlpsLevel: 2{extra}}}\n"
    )


def demand(division: str) -> str:
    return (
        (SAMPLE / "planning" / "catalog.yaml").read_text(encoding="utf-8")
        + "\n---\napiVersion: tongchou.io/v1\nkind: Demand\nmetadata: {name: d}\n"
        + f"spec: {{division: {division}, platform: unified-identity, units: 10}}\n"
    )


async def run_plan(client: HubClient, text: str) -> None:
    async for _event in client.run_plan(text, time_limit=5):
        pass


Call = Callable[[HubClient, str], Awaitable[Any]]
APIS: dict[str, Call] = {
    "SubmitWorkload": lambda c, t: c.submit_workload(t, timeout=CALL_SECONDS),
    "CheckPolicies": lambda c, t: c.check_policies(t, timeout=CALL_SECONDS),
    "RunPlan": lambda c, t: asyncio.wait_for(run_plan(c, t), CALL_SECONDS),
}


@pytest.mark.slow
@pytest.mark.parametrize("user", ["province-op", "gz-op"])
@pytest.mark.parametrize("method", sorted(APIS))
async def test_the_corpus_is_refused_while_the_probe_is_acked(
    api: Api, probe: Simulator, method: str, user: str
) -> None:
    client = api.client(user)
    call = APIS[method]
    for bad in API_CORPUS:
        text = bad.data.decode("utf-8", "replace")
        acks = probe.stats.acks
        code, details = await code_of(call(client, text))
        assert code == grpc.StatusCode.INVALID_ARGUMENT, f"{bad.id}: {code} {details}"
        assert "Traceback" not in details
        for _ in range(100):  # the probe is acknowledged again soon after each refusal
            if probe.stats.acks > acks:
                break
            await asyncio.sleep(0.05)
        assert probe.stats.acks > acks, f"{bad.id}: the probe was not acknowledged"
    assert probe.stats.failures == 0
    assert probe.stats.rejected == 0


async def test_a_viewers_alias_bomb_is_refused_at_once(api: Api, probe: Simulator) -> None:
    viewer = api.client("gz-viewer")
    text = laughs(8, "PlacementPolicy")
    code, details = await code_of(viewer.check_policies(text, timeout=CALL_SECONDS))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "after aliases are expanded" in details
    assert probe.stats.failures == 0


@pytest.mark.parametrize("owner", ["440300", '"440300"'])
async def test_an_unquoted_code_does_not_escape_the_scope(
    api: Api, probe: Simulator, owner: str
) -> None:
    gz = api.client("gz-op")
    code, details = await code_of(gz.submit_workload(workload("sz-app", owner)))
    assert code == grpc.StatusCode.PERMISSION_DENIED, details
    assert "440300" in details
    assert "sz-app" not in {w.name for w in await api.client("province-op").workloads()}
    code, details = await code_of(run_plan(gz, demand(owner)))
    assert code == grpc.StatusCode.PERMISSION_DENIED, details
    assert "440300" in details
    # within the scope, either spelling is taken
    await gz.submit_workload(workload("gz-app", owner.replace("440300", "440106")))


async def test_a_date_like_value_from_a_scoped_user_is_a_clean_error(api: Api) -> None:
    gz = api.client("gz-op")
    text = workload("w", '"440100"', extra=", note: 2020-13-45")
    code, details = await code_of(gz.submit_workload(text))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert 'unknown field "note"' in details


async def test_a_poison_workload_is_refused_and_later_submissions_work(api: Api) -> None:
    op = api.client("province-op")
    code, details = await code_of(op.submit_workload(workload("poison", '"440100"', "16Ei")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "at most 64Ti, got 16Ei" in details
    await op.submit_workload(workload("fine", '"440100"'))
    assert {w.name for w in await op.workloads()} == {"fine"}


def fill_disk(store: SqliteStore) -> None:
    """The store's file may not grow any more: SQLite answers 'database or disk is full'."""
    db: sqlite3.Connection = store._db
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")


async def test_a_full_disk_leaves_memory_as_it_was(api: Api, probe: Simulator) -> None:
    op = api.client("province-op")
    await op.submit_workload(workload("kept", '"440100"'))
    store = api.hub.store
    assert isinstance(store, SqliteStore)
    fill_disk(store)
    big = workload("new-" + "x" * 40, '"440100"', extra=", chips: [" + "a" * 8000 + "]")
    code, details = await code_of(op.submit_workload(big))
    assert code == grpc.StatusCode.UNAVAILABLE, details
    assert "full" in details
    assert {w.name for w in await op.workloads()} == {"kept"}
    assert probe.stats.failures == 0


async def test_audit_verification_runs_off_the_event_loop(api: Api) -> None:
    """VerifyAudit reads the whole chain: on a worker thread, never the loop's."""
    audit = api.hub.audit
    assert audit is not None
    threads: list[str] = []
    verify = audit.verify

    def spy() -> Any:
        threads.append(threading.current_thread().name)
        return verify()

    audit.verify = spy  # type: ignore[method-assign]
    api.tokens["auditor"] = api.hub.credentials.add_user(  # type: ignore[union-attr]
        User("auditor", ("auditor",), "")
    )
    channel = grpc.aio.secure_channel(
        f"127.0.0.1:{api.hub.token_port}",
        grpc.composite_channel_credentials(
            grpc.ssl_channel_credentials(api.ca.cert_pem),
            grpc.access_token_call_credentials(api.tokens["auditor"]),
        ),
    )
    async with channel:
        stub = security_pb2_grpc.AuditServiceStub(channel)
        answer = await stub.VerifyAudit(security_pb2.VerifyAuditRequest(), timeout=CALL_SECONDS)
    assert answer.ok
    assert threads and threads[0] != threading.main_thread().name


async def test_a_frozen_store_answers_unavailable_and_the_hub_keeps_serving(
    api: Api, probe: Simulator
) -> None:
    op = api.client("province-op")
    await op.submit_workload(workload("kept", '"440100"'))
    store = api.hub.store
    assert isinstance(store, SqliteStore)
    api.hub.workloads.store_seconds = 1.0
    frozen = threading.Event()

    def freeze() -> None:
        with store._lock:
            frozen.set()
            time.sleep(4)

    holder = threading.Thread(target=freeze, name="frozen-disk")
    holder.start()
    frozen.wait(10)
    try:
        acks = probe.stats.acks
        code, details = await code_of(op.submit_workload(workload("late", '"440100"')))
        assert code == grpc.StatusCode.UNAVAILABLE, details
        assert "did not answer within 1 s" in details and "not confirmed" in details
        code, _ = await code_of(op.delete_workload("kept"))
        assert code == grpc.StatusCode.UNAVAILABLE
        assert {w.name for w in await op.workloads()} == {"kept"}  # reads carry on
        assert probe.stats.acks > acks  # and so does ingest
    finally:
        holder.join()
