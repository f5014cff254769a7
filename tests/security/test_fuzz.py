"""Hostile input, fuzzed with hypothesis (bounded examples): the report validator, the document
and policy loaders, and the console API's inputs end only in clear errors, never a crash."""

from __future__ import annotations

import asyncio
import string
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf.message import DecodeError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.documents import LoadError
from console.documents.loader import load_text
from console.hub.fleet import validate
from console.hub.fleet.validate import ReportRejected
from console.hub.server import Hub, HubConfig
from console.policy.cel import CelError, compile_expression
from console.security.pki import CertificateAuthority
from console.security.roles import RoleError, check_roles, check_scope
from console.security.tls import TlsFiles
from console.store import SqliteStore
from console.store.credentials import User
from tests.unit.test_validate import NOW, good_report
from tongchou.v1 import (
    agent_pb2,
    inventory_pb2,
    inventory_pb2_grpc,
    security_pb2,
    security_pb2_grpc,
    workloads_pb2,
    workloads_pb2_grpc,
)

EXAMPLES = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
GOOD = good_report().SerializeToString()


def run_validators(report: agent_pb2.NodeReport) -> None:
    try:
        validate.check_envelope(report, now=NOW)
        validate.check_identity(report.identity)
        validate.check_capacity(report.capacity)
        validate.check_usage(report.usage, report.capacity)
    except ReportRejected as bad:
        assert bad.reason in validate.REASONS
        assert bad.message


@EXAMPLES
@given(st.lists(st.tuples(st.integers(0, len(GOOD)), st.binary(max_size=8)), max_size=6))
def test_report_validator_on_mangled_bytes(edits: list[tuple[int, bytes]]) -> None:
    data = bytearray(GOOD)
    for at, chunk in edits:
        data[at : at + len(chunk)] = chunk
    try:
        report = agent_pb2.NodeReport.FromString(bytes(data))
    except DecodeError:
        return  # the hub answers this with "malformed"
    run_validators(report)


_TEXT = st.text(max_size=300)
_UINT64 = st.integers(0, 2**64 - 1)
_DOUBLE = st.floats(allow_nan=True, allow_infinity=True)


@EXAMPLES
@given(
    node=_TEXT, division=_TEXT, site=_TEXT, level=st.integers(0, 2**31 - 1),
    mlps=st.integers(0, 2**32 - 1), labels=st.dictionaries(_TEXT, _TEXT, max_size=5),
    cpu=st.integers(0, 2**32 - 1), memory=_UINT64, ratio=_DOUBLE, load=_DOUBLE, used=_UINT64,
    sequence=_UINT64, seconds=st.integers(-(2**40), 2**40),
)  # fmt: skip
def test_report_validator_on_random_fields(
    node: str, division: str, site: str, level: int, mlps: int, labels: dict[str, str],
    cpu: int, memory: int, ratio: float, load: float, used: int, sequence: int, seconds: int,
) -> None:  # fmt: skip
    report = good_report()
    ident = report.identity
    ident.node, ident.division, ident.site, ident.mlps_level = node, division, site, mlps
    ident.level = level  # type: ignore[assignment]
    ident.labels.clear()
    ident.labels.update(labels)
    report.capacity.cpu_logical, report.capacity.memory_bytes = cpu, memory
    report.usage.cpu_ratio, report.usage.load1, report.usage.memory_used_bytes = ratio, load, used
    report.sequence = sequence
    report.collected_at.seconds = seconds
    run_validators(report)


def _yaml_value() -> st.SearchStrategy[Any]:
    leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
        ),
        max_leaves=12,
    )


KINDS = ["Division", "Site", "Cluster", "Node", "NodePool", "Workload", "PlacementPolicy",
         "Platform", "Demand", "ServerSku", "PlanningPolicy", "Nope"]  # fmt: skip
FIELDS = ["name", "level", "parent", "division", "site", "owner", "replicas", "resources",
          "capacity", "cluster", "require", "prefer", "match", "weight", "mlpsLevel",
          "count"]  # fmt: skip


@st.composite
def documents(draw: st.DrawFn) -> str:
    docs = []
    for _ in range(draw(st.integers(1, 3))):
        spec = draw(st.dictionaries(st.sampled_from(FIELDS), _yaml_value(), max_size=6))
        doc: dict[str, Any] = {
            "apiVersion": draw(st.sampled_from(["tongchou.io/v1", "v2", ""])),
            "kind": draw(st.sampled_from(KINDS)),
            "metadata": {"name": draw(st.text(string.ascii_lowercase + "-0", max_size=12))},
            "spec": spec,
        }
        if draw(st.booleans()):
            doc[draw(st.text(max_size=6))] = draw(_yaml_value())
        docs.append(yaml.safe_dump(doc, allow_unicode=True))
    text = "---\n".join(docs)
    if draw(st.booleans()):  # break the YAML itself somewhere
        at = draw(st.integers(0, len(text)))
        text = (
            text[:at] + draw(st.sampled_from(["\t", ": :", "[", "{{", "\x00", "&a *a"])) + text[at:]
        )
    return text


@EXAMPLES
@given(documents())
def test_document_loader_gives_only_load_errors(text: str) -> None:
    try:
        load_text(text, "fuzz.yaml")
    except LoadError as err:
        assert err.errors
        assert all("fuzz.yaml" in str(e) for e in err.errors)


CEL_PIECES = ["workload", "cluster", "site", ".", "mlpsLevel", "==", "&&", "||", "!", "(",
              ")", "1", "2.5", '"x"', "in", "[", "]", "size(", "fit", ">", "?", ":", " ", "{",
              "}"]  # fmt: skip


@EXAMPLES
@given(st.lists(st.sampled_from(CEL_PIECES), max_size=12).map("".join) | st.text(max_size=60))
def test_policy_expressions_give_only_cel_errors(source: str) -> None:
    try:
        compile_expression(source)
    except CelError as err:
        assert str(err)


@EXAMPLES
@given(st.lists(st.text(max_size=12), max_size=4), st.text(max_size=12))
def test_roles_and_scopes_give_only_role_errors(roles: list[str], scope: str) -> None:
    try:
        check_roles(roles)
        check_scope(scope)
    except RoleError as err:
        assert str(err)


# --- the console API over real TLS: every answer is OK or a clean, expected status

CLEAN = {
    grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.NOT_FOUND, grpc.StatusCode.ALREADY_EXISTS,
}  # fmt: skip


def collect(strategy: st.SearchStrategy[Any], count: int = 40) -> list[Any]:
    """`count` inputs drawn by hypothesis (derandomized), to send to a live hub."""
    out: list[Any] = []

    @settings(max_examples=count, deadline=None, derandomize=True, database=None)
    @given(strategy)
    def draw(value: Any) -> None:
        out.append(value)

    draw()
    return out


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[tuple[Hub, grpc.aio.Channel]]:
    ca = CertificateAuthority.init(tmp_path / "ca")
    cert = ca.issue("hub", "hub")
    config = HubConfig(
        listen="127.0.0.1:0",
        metrics_listen="",
        tls=TlsFiles(ca.cert_pem, cert.cert_pem, cert.key_pem),
        token_listen="127.0.0.1:0",
    )
    hub = Hub(config, SqliteStore(tmp_path / "hub.db"))
    await hub.start()
    assert hub.credentials is not None
    token = hub.credentials.add_user(User("fuzzer", ("operator",), "440106"))
    admin = hub.credentials.add_user(User("sec", ("secadmin",), ""))
    creds = grpc.composite_channel_credentials(
        grpc.ssl_channel_credentials(ca.cert_pem), grpc.access_token_call_credentials(token)
    )
    admin_creds = grpc.composite_channel_credentials(
        grpc.ssl_channel_credentials(ca.cert_pem), grpc.access_token_call_credentials(admin)
    )
    channel = grpc.aio.secure_channel(f"127.0.0.1:{hub.token_port}", creds)
    hub.admin_channel = grpc.aio.secure_channel(  # type: ignore[attr-defined]
        f"127.0.0.1:{hub.token_port}", admin_creds
    )
    try:
        yield hub, channel
    finally:
        await channel.close()
        await hub.admin_channel.close()  # type: ignore[attr-defined]
        await hub.shutdown()


async def status_of(call: Any) -> grpc.StatusCode:
    try:
        await call
    except grpc.aio.AioRpcError as err:
        code = err.code()
        assert code is not None
        return code
    return grpc.StatusCode.OK


@pytest.mark.slow
async def test_console_api_inputs_end_in_clean_statuses(
    hub: tuple[Hub, grpc.aio.Channel],
) -> None:
    server, channel = hub
    inventory = inventory_pb2_grpc.InventoryServiceStub(channel)
    workloads = workloads_pb2_grpc.WorkloadServiceStub(channel)
    users = security_pb2_grpc.UserServiceStub(server.admin_channel)  # type: ignore[attr-defined]
    texts = await asyncio.to_thread(collect, documents() | st.text(max_size=200))
    names = await asyncio.to_thread(collect, st.text(max_size=80))
    for text in texts:
        req = workloads_pb2.SubmitWorkloadRequest(yaml=text)
        assert await status_of(workloads.SubmitWorkload(req, timeout=10)) in CLEAN, text
    for name in names:
        calls = [
            inventory.GetNode(inventory_pb2.GetNodeRequest(node=name), timeout=10),
            inventory.ListNodes(inventory_pb2.ListNodesRequest(division=name, page_token=name)),
            workloads.DeleteWorkload(workloads_pb2.DeleteWorkloadRequest(name=name), timeout=10),
            workloads.ExplainWorkload(workloads_pb2.ExplainWorkloadRequest(name=name)),
            users.CreateUser(security_pb2.CreateUserRequest(name=name, roles=[name], scope=name)),
        ]
        for call in calls:
            assert await status_of(call) in CLEAN, name
    # and the hub still serves
    summary = await inventory.GetFleetSummary(inventory_pb2.GetFleetSummaryRequest(), timeout=10)
    assert summary.totals.nodes_ready == 0
