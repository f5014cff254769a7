"""The demo's own CA in its state directory, and the certificates the demo's parts use."""

from __future__ import annotations

import datetime as dt
import socket
from dataclasses import dataclass
from pathlib import Path

from console.security.pki import CertificateAuthority, identity_of
from console.security.tls import TlsFiles
from console.store.credentials import Credentials

RENEW_BEFORE = dt.timedelta(days=7)


@dataclass(frozen=True, slots=True)
class DemoPki:
    directory: Path
    hub: TlsFiles
    simulator: TlsFiles
    console: TlsFiles
    node: str  # this machine's node name; its certificate is `<directory>/<node>.crt`


def ensure(directory: Path, console_user: str) -> DemoPki:
    """Creates the CA on first use; issues (or renews near expiry) the demo's certificates."""
    ca = (
        CertificateAuthority.load(directory)
        if (directory / "ca.key").exists()
        else CertificateAuthority.init(directory, name="Tongchou demo CA")
    )
    node = socket.gethostname()

    def cert(kind: str, name: str) -> TlsFiles:
        path = directory / f"{name}.crt"
        now = dt.datetime.now(dt.UTC)
        if not path.exists() or identity_of(path.read_bytes()).not_after - now < RENEW_BEFORE:
            ca.issue(kind, name).write(directory, name)
        return TlsFiles.in_dir(directory, name)

    cert("node", node)
    return DemoPki(
        directory,
        cert("hub", "hub"),
        cert("simulator", "simulator"),
        cert("user", console_user),
        node,
    )


def bind_user(credentials: Credentials, files: TlsFiles, user: str) -> None:
    """Records the console's user certificate as issued to the user's account (a user
    certificate authenticates only the account it was issued for)."""
    ident = identity_of(files.cert)
    account = credentials.user(user)
    if account is None or credentials.certificate(ident.serial) is not None:
        return
    credentials.record_certificate(
        ident.serial,
        "user",
        user,
        ident.not_before.timestamp(),
        ident.not_after.timestamp(),
        owner=account.id,
        issued_by="demo",
    )
