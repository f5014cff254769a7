"""The node's certificate: joining with a token (key and CSR made here), and renewal before expiry.

The key, the CSR and the reading of a certificate's validity use `cryptography`, which adds
about 9 MiB to a process that imports it. The daemon never does: it asks a short-lived
`python -m agent.enroll` process for them (see `helper`), so its resident memory stays that of
a small exporter. The private key never leaves the node.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence

from agent import helper
from agent.transport import Credentials, Transport, load
from tongchou.v1 import security_pb2

RENEW_AT = 2 / 3  # of the certificate's lifetime
TIMEOUT = 30.0
HELPER_TIMEOUT = 60.0


def key_and_csr(node: str) -> tuple[bytes, str]:
    """A new P-256 key (PEM) and a CSR naming `node` (in this process)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

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
    """(not before, not after) of a PEM certificate (in this process)."""
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(cert_pem)
    if hasattr(cert, "not_valid_before_utc"):  # cryptography 42 and later
        return cert.not_valid_before_utc, cert.not_valid_after_utc
    return (  # the distributions' older cryptography: naive datetimes in UTC
        cert.not_valid_before.replace(tzinfo=dt.UTC),
        cert.not_valid_after.replace(tzinfo=dt.UTC),
    )


def due_between(start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None) -> bool:
    """True once `RENEW_AT` of the lifetime from `start` to `end` has passed."""
    return (now or dt.datetime.now(dt.UTC)) >= start + (end - start) * RENEW_AT


def due(cert_pem: bytes, now: dt.datetime | None = None) -> bool:
    """True once `RENEW_AT` of the certificate's lifetime has passed."""
    return due_between(*validity(cert_pem), now)


async def run_helper(args: Sequence[str], stdin: bytes = b"") -> dict[str, str]:
    """Runs `python -m agent.enroll ARGS` and returns its JSON answer; raises ValueError."""
    proc = await asyncio.create_subprocess_exec(
        *helper.command("agent.enroll", *args),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=helper.environment(),
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin), HELPER_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise ValueError(f"agent.enroll {args[0]} did not finish in {HELPER_TIMEOUT:g}s") from None
    if proc.returncode != 0:
        raise ValueError(f"agent.enroll {args[0]}: {err.decode(errors='replace').strip()}")
    answer: dict[str, str] = json.loads(out)
    return answer


async def new_key_and_csr(node: str) -> tuple[bytes, str]:
    """`key_and_csr` in a helper process."""
    answer = await run_helper(["csr", node])
    return answer["key"].encode(), answer["csr"]


async def validity_of(cert_pem: bytes) -> tuple[dt.datetime, dt.datetime]:
    """`validity` in a helper process."""
    answer = await run_helper(["validity"], cert_pem)
    return dt.datetime.fromisoformat(answer["start"]), dt.datetime.fromisoformat(answer["end"])


async def join(
    address: str, ca_pem: bytes, token: str, node: str, transport: Transport | None = None
) -> tuple[bytes, bytes]:
    """Asks the hub's join port for a certificate; returns (cert, key) PEM. Raises RpcError."""
    key_pem, csr = await new_key_and_csr(node)
    answer = await (transport or load()).join(
        address, ca_pem, security_pb2.JoinRequest(token=token, csr_pem=csr), TIMEOUT
    )
    return answer.cert_pem.encode(), key_pem


async def renew(
    address: str,
    ca_pem: bytes,
    cert_pem: bytes,
    key_pem: bytes,
    node: str,
    transport: Transport | None = None,
) -> tuple[bytes, bytes]:
    """A certificate for a new key, authenticated by the current one; returns (cert, key).
    Raises RpcError."""
    new_key, csr = await new_key_and_csr(node)
    answer = await (transport or load()).renew(
        address,
        Credentials(ca_pem, cert_pem, key_pem),
        security_pb2.RenewRequest(csr_pem=csr),
        TIMEOUT,
    )
    return answer.cert_pem.encode(), new_key


def read(*paths: str | os.PathLike[str]) -> list[bytes]:
    out = []
    for path in paths:
        with open(path, "rb") as file:
            out.append(file.read())
    return out


def write_pair(
    cert_path: str | os.PathLike[str],
    key_path: str | os.PathLike[str],
    cert_pem: bytes,
    key_pem: bytes,
) -> None:
    """Replaces both files atomically (each via a temporary file and rename); the key is 0600."""
    for path, data, mode in ((key_path, key_pem, 0o600), (cert_path, cert_pem, 0o644)):
        fd = os.open(f"{os.fspath(path)}.tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), mode)  # a stale temporary file keeps its own mode
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    for path in (key_path, cert_path):
        os.replace(f"{os.fspath(path)}.tmp", path)


def main(argv: Sequence[str]) -> int:
    """`csr NODE`: a new key and CSR; `validity` (certificate on stdin): its dates. JSON out."""
    try:
        if len(argv) == 2 and argv[0] == "csr":
            key, csr = key_and_csr(argv[1])
            answer = {"key": key.decode(), "csr": csr}
        elif len(argv) == 1 and argv[0] == "validity":
            start, end = validity(sys.stdin.buffer.read())
            answer = {"start": start.isoformat(), "end": end.isoformat()}
        else:
            print("usage: python -m agent.enroll csr NODE | validity < cert.pem", file=sys.stderr)
            return 2
    except ImportError as err:
        print(f"the cryptography package is needed ({err})", file=sys.stderr)
        return 1
    except ValueError as err:
        print(f"not a PEM certificate: {err}", file=sys.stderr)
        return 2
    json.dump(answer, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
