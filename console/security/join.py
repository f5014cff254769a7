"""JoinService: a node with a single-use join token gets its certificate; a node renews its own,
in the last part of its certificate's life, at a bounded rate, unless its lineage is revoked."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import grpc
from cryptography import x509
from cryptography.x509.oid import NameOID

from console.security.binding import AuditSink
from console.security.pki import CertificateAuthority, Identity, PkiError, identity_of
from console.security.tls import peer_identity
from console.security.unavailable import answers_unavailable
from console.store.audit import AuditEntry, digest_of
from console.store.credentials import CredentialError, Credentials, NodePlace, serial_hex
from console.store.offloop import off_loop
from tongchou.v1 import security_pb2, security_pb2_grpc

log = logging.getLogger("tongchou.security.join")
MAX_CSR_BYTES = 16 * 1024
RENEW_FROM = 0.5  # a certificate renews only once half of its lifetime has passed
_R = TypeVar("_R")
RENEW_GAP = 1 / 8  # of a lifetime: the least time between two renewals of one lineage
_USED_UP = "no certificate was issued; should the token be used up, ask for a new one"
_unavailable_when_the_store_is = answers_unavailable(
    "the hub's certificate store", _USED_UP, _USED_UP
)


async def _db(call: Callable[..., _R], *args: Any, **kwargs: Any) -> _R:
    """The store is read and written off the event loop, within its time bound."""
    return await off_loop(call, *args, passing=(CredentialError,), **kwargs)


def load_ca(directory: Path | None) -> CertificateAuthority | None:
    """The hub's CA from --ca-dir (None without one). Raises RuntimeError saying what is wrong."""
    if directory is None:
        return None
    try:
        return CertificateAuthority.load(directory)
    except PkiError as err:
        raise RuntimeError(str(err)) from None


def _csr_name(csr_pem: str) -> str:
    """The common name of a well-formed CSR whose signature holds. Raises PkiError."""
    if len(csr_pem) > MAX_CSR_BYTES:
        raise PkiError(f"the certificate request is larger than {MAX_CSR_BYTES} bytes")
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
    except ValueError as err:
        raise PkiError(f"the certificate request is not a valid PEM CSR: {err}") from None
    if not csr.is_signature_valid:
        raise PkiError("the certificate request's signature is invalid")
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        raise PkiError("the certificate request has no common name (the node's name)")
    return str(names[0].value)


def _iso(when: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))


def renewal_refusal(
    ident: Identity, last_renewal: float | None, now: float
) -> tuple[grpc.StatusCode, str] | None:
    """Why a certificate may not renew now, or None when it may."""
    life = ident.lifetime.total_seconds()
    start = ident.not_before.timestamp()
    opens = start + life * RENEW_FROM
    if now < opens:
        return (
            grpc.StatusCode.FAILED_PRECONDITION,
            f"certificate {serial_hex(ident.serial)} of node {ident.name} renews only in the "
            f"second half of its life, from {_iso(opens)}",
        )
    if last_renewal is not None and now - last_renewal < life * RENEW_GAP:
        return (
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            f"node {ident.name}'s certificate lineage was renewed {now - last_renewal:.0f} s ago; "
            f"the least gap is {life * RENEW_GAP:.0f} s",
        )
    return None


class JoinApi(security_pb2_grpc.JoinServiceServicer):
    def __init__(
        self,
        ca: CertificateAuthority,
        credentials: Credentials,
        audit: AuditSink,
        *,
        node_cert_days: float = 90.0,
        enrolled: Callable[[str, NodePlace | None], None] = lambda _node, _place: None,
    ) -> None:
        self.ca = ca
        self.credentials = credentials
        self.audit = audit
        self.node_cert_days = node_cert_days
        self.enrolled = enrolled  # hears where a node that joined is (its token's place)

    @_unavailable_when_the_store_is
    async def Join(
        self, request: security_pb2.JoinRequest, context: Any
    ) -> security_pb2.JoinResponse:
        # The request is checked whole before the token is touched: a bad CSR or another
        # node's name does not use the token up.
        try:
            claimed = _csr_name(request.csr_pem)
        except PkiError as err:
            self._record(
                "anonymous", "node.join", "node/?", "invalid", str(err), peer=context.peer()
            )
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
            raise  # not reached: abort raises
        try:
            node = await _db(self.credentials.consume_token, request.token, node=claimed)
        except CredentialError as err:
            mismatch = "the request names" in str(err)
            self._record(
                f"node:{claimed}",
                "node.join",
                f"node/{claimed}",
                "denied" if mismatch else "unauthenticated",
                str(err),
            )
            code = grpc.StatusCode.UNAUTHENTICATED
            await context.abort(grpc.StatusCode.PERMISSION_DENIED if mismatch else code, str(err))
            raise  # not reached
        place = await _db(self.credentials.node_place, node)
        self.enrolled(node, place)
        return await self._issue(request.csr_pem, node, "node.join", None, context, place)

    @_unavailable_when_the_store_is
    async def Renew(
        self, request: security_pb2.RenewRequest, context: Any
    ) -> security_pb2.JoinResponse:
        ident = peer_identity(context)
        actor = f"{ident.kind}:{ident.name}" if ident else "anonymous"
        target = f"node/{ident.name}" if ident else "node/?"
        if ident is None or ident.kind != "node":
            message = "only a node's own certificate can renew it"
            self._record(actor, "cert.renew", target, "denied", message)
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, message)
            raise AssertionError("not reached: abort raises")
        serial = serial_hex(ident.serial)
        if await _db(
            self.credentials.is_revoked,
            ident.serial,
            ident.kind,
            ident.name,
            ident.not_before.timestamp(),
        ):
            message = f"certificate {serial} of node {ident.name} belongs to a revoked lineage"
            self._record(actor, "cert.renew", target, "denied", message, serial)
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, message)
        refusal = renewal_refusal(ident, await _db(self._last_renewal, ident), time.time())
        if refusal is not None:
            self._record(
                actor, "cert.renew", target, "refused", refusal[1], serial, peer=context.peer()
            )
            await context.abort(*refusal)
        return await self._issue(request.csr_pem, ident.name, "cert.renew", ident, context)

    def _last_renewal(self, ident: Identity) -> float | None:
        record = self.credentials.certificate(ident.serial)
        lineage = record.lineage if record is not None else serial_hex(ident.serial)
        return self.credentials.last_renewal(lineage)

    def _record(
        self,
        actor: str,
        action: str,
        obj: str,
        outcome: str,
        detail: str,
        serial: str = "",
        *,
        peer: str = "",
    ) -> None:
        if serial:
            detail = f"presented serial {serial}; {detail}"
        self.audit(AuditEntry(actor, action, obj, outcome, role="node", detail=detail, peer=peer))

    async def _issue(
        self,
        csr_pem: str,
        node: str,
        action: str,
        parent: Identity | None,
        context: Any,
        place: NodePlace | None = None,
    ) -> security_pb2.JoinResponse:
        try:
            cert = self.ca.sign_csr(csr_pem.encode(), "node", node, days=self.node_cert_days)
        except PkiError as err:
            self._record(f"node:{node}", action, f"node/{node}", "failed", str(err))
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
            raise  # not reached
        issued = identity_of(cert)
        record = await _db(
            self.credentials.record_certificate,
            issued.serial,
            "node",
            node,
            issued.not_before.timestamp(),
            issued.not_after.timestamp(),
            parent=parent.serial if parent is not None else None,
            issued_by="join" if parent is None else "renewal",
        )
        detail = f"serial {record.serial}; lineage {record.lineage}"
        if record.parent:
            detail += f"; renews {record.parent}"
        if place is not None:
            detail += f"; bound to division {place.division}, site {place.site}, "
            detail += f"cluster {place.cluster}"
        self.audit(
            AuditEntry(
                f"node:{node}",
                action,
                f"node/{node}",
                "ok",
                role="node",
                digest=digest_of(cert),
                detail=detail,
            )
        )
        log.info("issued certificate %s to node %s (%s)", record.serial, node, action)
        return security_pb2.JoinResponse(cert_pem=cert.decode(), ca_pem=self.ca.cert_pem.decode())
