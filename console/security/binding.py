"""Binds an agent stream's node name to its client certificate: node A cannot report as node B."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from console.security.pki import Identity
from console.security.tls import peer_identity
from console.store.audit import AuditEntry
from console.store.credentials import Credentials

AuditSink = Callable[[AuditEntry], None]


def revocation_check(credentials: Credentials | None) -> Callable[[Identity], bool]:
    """True for a certificate whose lineage (or, issued without a store, name) was revoked."""
    if credentials is None:
        return lambda _ident: False
    return lambda i: credentials.is_revoked(i.serial, i.kind, i.name, i.not_before.timestamp())


@dataclass(frozen=True, slots=True)
class Denial:
    reason: str  # a metric label
    message: str


class NodeBinding:
    """Checks the first report of a stream against the certificate the stream came with."""

    def __init__(
        self,
        *,
        trust_simulators: bool = False,
        audit: AuditSink | None = None,
        revoked: Callable[[Identity], bool] = lambda _ident: False,
    ) -> None:
        self.trust_simulators = trust_simulators
        self.audit = audit
        self.revoked = revoked

    def recheck(self, ident: Identity, node: str, peer: str) -> Denial | None:
        """Whether an open stream's certificate was revoked since it was checked (a blocking
        store read: call it off the event loop). A revocation is audited."""
        if not self.revoked(ident):
            return None
        denial = Denial("revoked", f"the certificate of {ident.kind}:{ident.name} was revoked")
        if self.audit is not None:
            self.audit(
                AuditEntry(
                    f"{ident.kind}:{ident.name}",
                    "agent.connect",
                    f"node/{node}",
                    "denied",
                    role=ident.kind,
                    detail=denial.message,
                    peer=peer,
                )
            )
        return denial

    def check(
        self,
        context: Any,
        node: str = "",
        *,
        peer: str = "",
        revocation: bool = True,
        revoked: bool | None = None,
    ) -> Denial | None:
        """Whether the stream's certificate may report as `node`; with no node (before the
        first report is even parsed), whether it may report at all. Denials are audited.
        `revoked`, when given, is the revocation answer already read (off the event loop);
        `revocation=False` leaves the revocation check out (a caller that made it off the
        event loop: `recheck`); otherwise the check reads the store itself."""
        ident = peer_identity(context)
        denial: Denial | None = None
        actor = "anonymous"
        if ident is None:
            denial = Denial("no_certificate", "the hub requires a node certificate")
        else:
            actor = f"{ident.kind}:{ident.name}"
            if revocation and (self.revoked(ident) if revoked is None else revoked):
                denial = Denial("revoked", f"the certificate of {actor} was revoked")
            elif ident.kind == "simulator" and self.trust_simulators:
                return None
            elif ident.kind != "node":
                denial = Denial(
                    "not_a_node",
                    f"a {ident.kind} certificate ({ident.name}) cannot report as a node",
                )
            elif node and ident.name != node:
                denial = Denial(
                    "node_mismatch",
                    f"the certificate is for node {ident.name}, the report claims node {node}",
                )
        if denial is not None and self.audit is not None:
            self.audit(
                AuditEntry(
                    actor,
                    "agent.connect",
                    f"node/{node or (ident.name if ident else '?')}",
                    "denied",
                    role=ident.kind if ident else "",
                    detail=denial.message,
                    peer=peer,
                )
            )
        return denial
