"""JoinService: a node with a single-use join token gets its certificate; a node renews its own."""

from __future__ import annotations

import logging
from typing import Any

import grpc
from cryptography import x509
from cryptography.x509.oid import NameOID

from console.security.binding import AuditSink
from console.security.pki import CertificateAuthority, PkiError
from console.security.tls import peer_identity
from console.store.audit import AuditEntry, digest_of
from console.store.credentials import CredentialError, Credentials
from tongchou.v1 import security_pb2, security_pb2_grpc

log = logging.getLogger("tongchou.security.join")
MAX_CSR_BYTES = 16 * 1024


def _csr_name(csr_pem: str) -> str:
    if len(csr_pem) > MAX_CSR_BYTES:
        raise PkiError(f"the certificate request is larger than {MAX_CSR_BYTES} bytes")
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
    except ValueError as err:
        raise PkiError(f"the certificate request is not a valid PEM CSR: {err}") from None
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        raise PkiError("the certificate request has no common name (the node's name)")
    return str(names[0].value)


class JoinApi(security_pb2_grpc.JoinServiceServicer):
    def __init__(
        self,
        ca: CertificateAuthority,
        credentials: Credentials,
        audit: AuditSink,
        *,
        node_cert_days: float = 90.0,
    ) -> None:
        self.ca = ca
        self.credentials = credentials
        self.audit = audit
        self.node_cert_days = node_cert_days

    async def Join(
        self, request: security_pb2.JoinRequest, context: Any
    ) -> security_pb2.JoinResponse:
        try:
            claimed = _csr_name(request.csr_pem)
        except PkiError as err:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
        try:
            node = self.credentials.consume_token(request.token)
        except CredentialError as err:
            self.audit(AuditEntry(f"node:{claimed}", "node.join", f"node/{claimed}",
                                  "unauthenticated", detail=str(err)))  # fmt: skip
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(err))
        if node != claimed:
            message = f"the join token is for node {node}, the request names {claimed}"
            self.audit(AuditEntry(f"node:{claimed}", "node.join", f"node/{claimed}", "denied",
                                  detail=message))  # fmt: skip
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, message)
        return await self._issue(request.csr_pem, node, "node.join", context)

    async def Renew(
        self, request: security_pb2.RenewRequest, context: Any
    ) -> security_pb2.JoinResponse:
        ident = peer_identity(context)
        if ident is None or ident.kind != "node" or self.credentials.is_revoked(ident.serial):
            message = "only a node's own, unrevoked certificate can renew it"
            self.audit(AuditEntry(f"{ident.kind}:{ident.name}" if ident else "anonymous",
                                  "cert.renew", "node/?", "denied", detail=message))  # fmt: skip
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, message)
            return security_pb2.JoinResponse()  # not reached: abort raises
        return await self._issue(request.csr_pem, ident.name, "cert.renew", context)

    async def _issue(
        self, csr_pem: str, node: str, action: str, context: Any
    ) -> security_pb2.JoinResponse:
        try:
            cert = self.ca.sign_csr(csr_pem.encode(), "node", node, days=self.node_cert_days)
        except PkiError as err:
            self.audit(AuditEntry(f"node:{node}", action, f"node/{node}", "failed",
                                  detail=str(err)))  # fmt: skip
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
        self.audit(AuditEntry(f"node:{node}", action, f"node/{node}", "ok", role="node",
                              digest=digest_of(cert)))  # fmt: skip
        log.info("issued a certificate to node %s (%s)", node, action)
        return security_pb2.JoinResponse(cert_pem=cert.decode(), ca_pem=self.ca.cert_pem.decode())
