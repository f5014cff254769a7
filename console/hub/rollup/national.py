"""A national hub's RollupService: takes province hubs' summaries (each province's newest, kept
with its time of arrival in the store), and answers the national console: one row per
province, a province that went quiet shown stale with its age, never dropped."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from prometheus_client import CollectorRegistry, Counter, Gauge

from console.security.pki import Identity
from console.security.tls import peer_identity
from console.store.audit import AuditEntry
from console.store.rollup import RollupStore, StoredSummary
from tongchou.divisions import DivisionCodeError, Level, contains, level_of
from tongchou.v1 import rollup_pb2

log = logging.getLogger("tongchou.hub.national")

MAX_DIVISIONS = 100_000  # a province has some 20,000 townships at most


@dataclass(slots=True)
class _Latest:
    summary: rollup_pb2.ProvinceSummary
    received_at: float


class NationalMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.summaries = Counter(
            "tongchou_hub_rollup_summaries",
            "Province summaries received, by outcome (taken, old, refused).",
            ["outcome"],
            registry=registry,
        )
        self.provinces = Gauge(
            "tongchou_hub_rollup_provinces",
            "Provinces known to the national hub, by whether their summary is stale.",
            ["stale"],
            registry=registry,
        )


class SummaryRefused(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def check(summary: rollup_pb2.ProvinceSummary, caller: tuple[str, str] | None) -> None:
    """Raises SummaryRefused when the summary is malformed or the caller (certificate kind
    and name, None on plaintext) may not report for its province."""
    code = summary.province
    try:
        level = level_of(code)
    except DivisionCodeError as err:
        raise SummaryRefused(grpc.StatusCode.INVALID_ARGUMENT, f"province: {err}") from None
    if level is not Level.PROVINCE:
        raise SummaryRefused(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"province: {code} is a {level.value} code, not a province's (PP0000)",
        )
    if caller is not None and caller != ("province", code):
        kind, name = caller
        raise SummaryRefused(
            grpc.StatusCode.PERMISSION_DENIED,
            f"the certificate {kind}:{name} may not report for province {code}; a province"
            f" hub reports with a certificate of kind province named {code}",
        )
    if len(summary.divisions) > MAX_DIVISIONS:
        raise SummaryRefused(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"divisions: {len(summary.divisions)} rows, more than {MAX_DIVISIONS}",
        )
    for i, division in enumerate(summary.divisions):
        if not contains(code, division.code):
            raise SummaryRefused(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"divisions[{i}].code: {division.code!r} is not a division inside {code}",
            )


class National:
    """The national hub's provinces. The event loop owns `latest`; the store is written on a
    worker thread before a summary is acknowledged. With mutual TLS the hub sets `revoked`
    (read off the loop: a province whose certificate's lineage was revoked is refused,
    audited) and `audit`."""

    def __init__(
        self,
        store: RollupStore | None,
        metrics: NationalMetrics,
        *,
        stale_after: float = 180.0,
        report_interval: float = 60.0,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.stale_after = stale_after
        self.report_interval = report_interval
        self.latest: dict[str, _Latest] = {}
        self.revoked: Callable[[Identity], bool] | None = None
        self.audit: Callable[[AuditEntry], None] | None = None

    async def load(self) -> None:
        if self.store is None:
            return
        for row in await asyncio.to_thread(self.store.load):
            message = rollup_pb2.ProvinceSummary.FromString(row.summary)
            self.latest[row.province] = _Latest(message, row.received_at)
        log.info("national roll-up: %d provinces loaded from the store", len(self.latest))

    async def Report(
        self, request: rollup_pb2.ProvinceSummary, context: Any
    ) -> rollup_pb2.RollupAck:
        ident = peer_identity(context)
        try:
            check(request, (ident.kind, ident.name) if ident is not None else None)
            revoked = self.revoked
            if (
                ident is not None
                and revoked is not None
                and await asyncio.to_thread(revoked, ident)
            ):
                self._audit_revoked(ident, request.province, context)
                raise SummaryRefused(
                    grpc.StatusCode.PERMISSION_DENIED,
                    f"the certificate of {ident.kind}:{ident.name} was revoked",
                )
        except SummaryRefused as refused:
            self.metrics.summaries.labels("refused").inc()
            await context.abort(refused.code, str(refused))
        ack = rollup_pb2.RollupAck()
        ack.report_interval.FromNanoseconds(int(self.report_interval * 1e9))
        old = self.latest.get(request.province)
        if old is not None and _older(request, old.summary):
            self.metrics.summaries.labels("old").inc()
            return ack
        now = time.time()
        if self.store is not None:
            row = StoredSummary(request.province, request.SerializeToString(), now)
            await asyncio.to_thread(self.store.put, row)
        if old is None:
            log.info("national roll-up: province %s (%s) reports", request.province, request.name)
        self.latest[request.province] = _Latest(request, now)
        self.metrics.summaries.labels("taken").inc()
        return ack

    def _audit_revoked(self, ident: Identity, province: str, context: Any) -> None:
        log.warning("national roll-up: a revoked certificate of %s reports", province)
        if self.audit is not None:
            self.audit(
                AuditEntry(
                    f"{ident.kind}:{ident.name}", "rollup.report", f"province/{province}",
                    "denied", role=ident.kind, detail="the certificate was revoked",
                    peer=str(context.peer() or ""),
                )
            )  # fmt: skip

    def row(self, code: str, now: float) -> rollup_pb2.ProvinceRow:
        latest = self.latest[code]
        s = latest.summary
        age = max(now - latest.received_at, 0.0)
        row = rollup_pb2.ProvinceRow(
            province=code,
            name=s.name,
            capacity=s.capacity,
            generated_at=s.generated_at,
            age_seconds=age,
            stale=age > self.stale_after,
            divisions=len(s.divisions),
        )
        row.received_at.FromNanoseconds(int(latest.received_at * 1e9))
        return row

    async def ListProvinces(
        self, request: rollup_pb2.ListProvincesRequest, context: Any
    ) -> rollup_pb2.ListProvincesResponse:
        now = time.time()
        rows = [self.row(code, now) for code in sorted(self.latest)]
        stale = sum(r.stale for r in rows)
        self.metrics.provinces.labels("true").set(stale)
        self.metrics.provinces.labels("false").set(len(rows) - stale)
        return rollup_pb2.ListProvincesResponse(provinces=rows)

    async def GetProvince(
        self, request: rollup_pb2.GetProvinceRequest, context: Any
    ) -> rollup_pb2.ProvinceView:
        if request.province not in self.latest:
            known = ", ".join(sorted(self.latest)) or "none yet"
            await context.abort(
                grpc.StatusCode.NOT_FOUND,
                f"province {request.province!r} has not reported (provinces: {known})",
            )
        latest = self.latest[request.province]
        return rollup_pb2.ProvinceView(
            row=self.row(request.province, time.time()), divisions=latest.summary.divisions
        )


def _older(new: rollup_pb2.ProvinceSummary, old: rollup_pb2.ProvinceSummary) -> bool:
    """A summary of the same run that is not newer (a retry that crossed a newer one)."""
    return new.run_id == old.run_id and new.sequence <= old.sequence
