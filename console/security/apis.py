"""AuditService: the audit log for auditors, within their division scope; and the principal
message UserService answers with."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from console.security.authz import current_principal, methods_for
from console.security.roles import Principal
from console.store.audit import AuditLog, AuditRecord
from tongchou.v1 import security_pb2, security_pb2_grpc


def principal_message(principal: Principal) -> security_pb2.Principal:
    return security_pb2.Principal(
        name=principal.name,
        roles=list(principal.roles),
        scope=principal.scope,
        methods=methods_for(principal),
    )


def caller() -> Principal:
    """The principal of the call being handled (an anonymous viewer on a hub without TLS)."""
    principal = current_principal()
    if principal is None:  # a hub without authentication (--insecure)
        return Principal("user", "anonymous", ("viewer",))
    return principal


class AuditApi(security_pb2_grpc.AuditServiceServicer):
    """The audit log, read on worker threads. An auditor scoped to a division sees the records
    of callers within that subtree; the rest of the log only as a count."""

    def __init__(self, audit: AuditLog, flush: Callable[[], None] = lambda: None) -> None:
        self.audit = audit
        self.flush = flush  # writes what is queued, so an export ends at the present

    async def ExportAudit(
        self, request: security_pb2.ExportAuditRequest, context: Any
    ) -> AsyncIterator[security_pb2.AuditRecord]:
        me = caller()
        await asyncio.to_thread(self.flush)
        records = self.audit.records(since=request.since)
        withheld = 0
        while True:
            batch = await asyncio.to_thread(_take, records, 500)
            if not batch:
                break
            for r in batch:
                if me.scope and not (r.scope and me.sees(r.scope)):
                    withheld += 1
                    continue
                yield security_pb2.AuditRecord(
                    seq=r.seq,
                    at=r.at,
                    actor=r.actor,
                    role=r.role,
                    scope=r.scope,
                    action=r.action,
                    object=r.object,
                    outcome=r.outcome,
                    digest=r.digest,
                    detail=r.detail,
                    prev=r.prev,
                    hash=r.hash,
                )
        if withheld:
            yield security_pb2.AuditRecord(
                action="audit.withheld",
                scope=me.scope,
                outcome="count",
                detail=f"{withheld} records of callers outside {me.scope} are not shown",
            )

    async def VerifyAudit(
        self, request: security_pb2.VerifyAuditRequest, context: Any
    ) -> security_pb2.VerifyAuditResponse:
        await asyncio.to_thread(self.flush)
        verdict = await asyncio.to_thread(self.audit.verify)  # the whole chain: off the loop
        return security_pb2.VerifyAuditResponse(
            ok=verdict.ok,
            records=verdict.records,
            bad_seq=verdict.bad_seq or 0,
            problem=verdict.problem,
        )


def _take(records: Iterator[AuditRecord], n: int) -> list[AuditRecord]:
    return list(itertools.islice(records, n))
