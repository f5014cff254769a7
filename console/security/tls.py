"""Mutual TLS on the hub's port: credentials from PEM files, and the peer's identity."""

from __future__ import annotations

import argparse
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from console.security.pki import Identity, PkiError, identity_of

log = logging.getLogger("tongchou.security")

INSECURE_WARNING = (
    "INSECURE: plaintext gRPC without mutual TLS (--insecure); anyone on the network can read "
    "and forge reports and API calls. Use only on loopback or in tests."
)


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """The CA that vouches for peers, and this side's own certificate and key (PEM)."""

    ca: bytes
    cert: bytes
    key: bytes

    @classmethod
    def read(cls, ca: Path, cert: Path, key: Path) -> TlsFiles:
        out: list[bytes] = []
        for flag, path in (("--tls-ca", ca), ("--tls-cert", cert), ("--tls-key", key)):
            try:
                out.append(path.read_bytes())
            except OSError as err:
                raise PkiError(f"{flag} {path}: cannot read: {err.strerror}") from None
            if b"-----BEGIN" not in out[-1]:
                raise PkiError(f"{flag} {path}: not a PEM file")
        identity_of(out[1])  # a clear error for a certificate that is not Tongchou's
        return cls(out[0], out[1], out[2])

    @classmethod
    def in_dir(cls, directory: Path, stem: str) -> TlsFiles:
        """`ca.crt`, `<stem>.crt` and `<stem>.key` from one directory."""
        return cls.read(directory / "ca.crt", directory / f"{stem}.crt", directory / f"{stem}.key")

    def server_credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials(
            [(self.key, self.cert)], root_certificates=self.ca, require_client_auth=True
        )

    def channel_credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca, private_key=self.key, certificate_chain=self.cert
        )


def peer_identity(context: Any) -> Identity | None:
    """The identity in the verified client certificate of a call, or None on plaintext."""
    auth = context.auth_context()
    pems = auth.get("x509_pem_cert")
    if not pems:
        return None
    try:
        return identity_of(pems[0])
    except PkiError:
        return None


def bearer_credentials(
    ca: Path, token: str, cert: Path | None = None, key: Path | None = None
) -> grpc.ChannelCredentials:
    """TLS that verifies the hub (and presents a certificate, if given), plus a bearer token."""
    try:
        ca_pem = ca.read_bytes()
        pair = (key.read_bytes(), cert.read_bytes()) if cert and key else (None, None)
    except OSError as err:
        raise PkiError(f"{err.filename}: cannot read: {err.strerror}") from None
    return grpc.composite_channel_credentials(
        grpc.ssl_channel_credentials(ca_pem, pair[0], pair[1]),
        grpc.access_token_call_credentials(token),
    )


def add_client_arguments(parser: argparse.ArgumentParser) -> None:
    """--tls-ca/--tls-cert/--tls-key, and --insecure, for commands that call the hub."""
    group = parser.add_argument_group("transport security")
    group.add_argument("--tls-ca", type=Path, help="CA certificate (PEM) that signed the hub")
    group.add_argument("--tls-cert", type=Path, help="this client's certificate (PEM)")
    group.add_argument("--tls-key", type=Path, help="this client's private key (PEM)")
    group.add_argument(
        "--token",
        default=os.environ.get("TONGCHOU_TOKEN", ""),
        help="bearer token of a console user (default $TONGCHOU_TOKEN); with --tls-ca, for the "
        "hub's token port",
    )
    group.add_argument(
        "--insecure", action="store_true", help="plaintext gRPC, no TLS (loopback and tests only)"
    )


def client_credentials(args: argparse.Namespace) -> grpc.ChannelCredentials | None:
    """The channel credentials the flags ask for; None when --insecure (which warns); no flags
    at all is an error, never a silent fall back to plaintext."""
    given = [args.tls_ca, args.tls_cert, args.tls_key]
    if args.token:
        if args.insecure or not args.tls_ca:
            raise PkiError("a bearer token is sent only over TLS: give --tls-ca, not --insecure")
        return bearer_credentials(args.tls_ca, args.token, args.tls_cert, args.tls_key)
    if args.insecure:
        if any(given):
            raise PkiError("--insecure and --tls-* exclude each other")
        log.warning(INSECURE_WARNING)
        return None
    if not any(given):
        raise PkiError(
            "the hub speaks mutual TLS: give --tls-ca, --tls-cert and --tls-key (`tongchou "
            "demo` prints its own), or --insecure for a plaintext hub on loopback"
        )
    if not all(given):
        raise PkiError("mutual TLS needs all three of --tls-ca, --tls-cert and --tls-key")
    return TlsFiles.read(args.tls_ca, args.tls_cert, args.tls_key).channel_credentials()
