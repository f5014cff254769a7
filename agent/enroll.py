"""The node's certificate: joining with a token (key and CSR made here), and renewal before expiry.

Uses `cryptography` (imported only by nodes that join or renew) to make the key and the CSR;
the private key never leaves the node."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tongchou.v1 import security_pb2, security_pb2_grpc

RENEW_AT = 2 / 3  # of the certificate's lifetime
TIMEOUT = 30.0


def key_and_csr(node: str) -> tuple[bytes, str]:
    """A new P-256 key (PEM) and a CSR naming `node`."""
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, node)]))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, csr.public_bytes(serialization.Encoding.PEM).decode()


def validity(cert_pem: bytes) -> tuple[dt.datetime, dt.datetime]:
    cert = x509.load_pem_x509_certificate(cert_pem)
    return cert.not_valid_before_utc, cert.not_valid_after_utc


def due(cert_pem: bytes, now: dt.datetime | None = None) -> bool:
    """True once `RENEW_AT` of the certificate's lifetime has passed."""
    start, end = validity(cert_pem)
    return (now or dt.datetime.now(dt.UTC)) >= start + (end - start) * RENEW_AT


async def join(address: str, ca_pem: bytes, token: str, node: str) -> tuple[bytes, bytes]:
    """Asks the hub's join port for a certificate; returns (cert, key) PEM."""
    key_pem, csr = key_and_csr(node)
    credentials = grpc.ssl_channel_credentials(root_certificates=ca_pem)
    async with grpc.aio.secure_channel(address, credentials) as channel:
        stub = security_pb2_grpc.JoinServiceStub(channel)
        answer = await stub.Join(
            security_pb2.JoinRequest(token=token, csr_pem=csr), timeout=TIMEOUT
        )
    return answer.cert_pem.encode(), key_pem


async def renew(
    address: str, ca_pem: bytes, cert_pem: bytes, key_pem: bytes, node: str
) -> tuple[bytes, bytes]:
    """A certificate for a new key, authenticated by the current one; returns (cert, key)."""
    new_key, csr = key_and_csr(node)
    credentials = grpc.ssl_channel_credentials(ca_pem, key_pem, cert_pem)
    async with grpc.aio.secure_channel(address, credentials) as channel:
        stub = security_pb2_grpc.JoinServiceStub(channel)
        answer = await stub.Renew(security_pb2.RenewRequest(csr_pem=csr), timeout=TIMEOUT)
    return answer.cert_pem.encode(), new_key


def read(*paths: Path) -> list[bytes]:
    return [path.read_bytes() for path in paths]


def write_pair(cert_path: Path, key_path: Path, cert_pem: bytes, key_pem: bytes) -> None:
    """Replaces both files atomically (each via a temporary file and rename); the key is 0600."""
    for path, data, mode in ((key_path, key_pem, 0o600), (cert_path, cert_pem, 0o644)):
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), mode)  # a stale temporary file keeps its own mode
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    for path in (key_path, cert_path):
        os.replace(path.with_name(path.name + ".tmp"), path)
