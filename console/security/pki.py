"""The certificate authority: creates a CA, issues hub, node and user certificates, signs CSRs."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KINDS = ("hub", "node", "user", "simulator", "scraper", "relay", "province")
CA_CERT = "ca.crt"
CA_KEY = "ca.key"
DEFAULT_DAYS = {
    "hub": 365,
    "node": 90,
    "user": 90,
    "simulator": 30,
    "scraper": 365,
    "relay": 365,
    "province": 365,
}
_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._@-]{0,251}[A-Za-z0-9])?$")


class PkiError(ValueError):
    """A CA or certificate problem a user can fix; the message says what and where."""


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a certificate names: its kind (organizational unit) and name (common name)."""

    kind: str
    name: str
    not_after: dt.datetime
    serial: int
    not_before: dt.datetime = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

    @property
    def lifetime(self) -> dt.timedelta:
        return self.not_after - self.not_before


@dataclass(frozen=True, slots=True)
class Issued:
    """A certificate and its private key, PEM-encoded."""

    cert_pem: bytes
    key_pem: bytes

    def write(self, directory: Path, stem: str) -> tuple[Path, Path]:
        """Writes `<stem>.crt` and `<stem>.key` (mode 0600)."""
        directory.mkdir(parents=True, exist_ok=True)
        cert, key = directory / f"{stem}.crt", directory / f"{stem}.key"
        _write_private(key, self.key_pem)
        _write_private(cert, self.cert_pem, 0o644)
        return cert, key


def check_name(kind: str, name: str) -> None:
    if kind not in KINDS:
        raise PkiError(f"certificate kind {kind!r} is not one of {', '.join(KINDS)}")
    if not _NAME.match(name):
        raise PkiError(
            f"certificate name {name!r} must be 1-253 letters, digits, '.', '_', '@' or '-'"
        )


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _subject(kind: str, name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tongchou"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, kind),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class CertificateAuthority:
    """A CA held in a directory: `ca.crt` and `ca.key` (0600)."""

    def __init__(self, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
        self.cert = cert
        self.key = key

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @classmethod
    def init(
        cls, directory: Path, *, name: str = "Tongchou CA", days: int = 3650
    ) -> CertificateAuthority:
        """Creates a new CA in `directory`; refuses to overwrite one."""
        if (directory / CA_KEY).exists() or (directory / CA_CERT).exists():
            raise PkiError(f"{directory}: a CA already exists here (ca.crt / ca.key)")
        key = new_key()
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tongchou"),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        try:
            directory.mkdir(parents=True, exist_ok=True)
            _write_private(directory / CA_KEY, key_pem(key))
            (directory / CA_CERT).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        except OSError as err:
            raise PkiError(f"{directory}: cannot write the CA: {err.strerror}") from None
        return cls(cert, key)

    @classmethod
    def load(cls, directory: Path) -> CertificateAuthority:
        try:
            cert_pem = (directory / CA_CERT).read_bytes()
            key_data = (directory / CA_KEY).read_bytes()
        except OSError as err:
            raise PkiError(
                f"{directory}: no CA here ({err.filename}: {err.strerror}); "
                "create one with `tongchou ca init`"
            ) from None
        try:
            cert = x509.load_pem_x509_certificate(cert_pem)
            key = serialization.load_pem_private_key(key_data, password=None)
        except ValueError as err:
            raise PkiError(f"{directory}: the CA files are not valid PEM: {err}") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise PkiError(f"{directory / CA_KEY}: expected an EC private key")
        return cls(cert, key)

    def issue(
        self,
        kind: str,
        name: str,
        *,
        days: float | None = None,
        hosts: tuple[str, ...] = (),
        not_before: dt.datetime | None = None,
    ) -> Issued:
        """A new key and a certificate for it, signed by this CA."""
        key = new_key()
        cert = self.sign(
            key.public_key(), kind, name, days=days, hosts=hosts, not_before=not_before
        )
        return Issued(cert, key_pem(key))

    def sign_csr(self, csr_pem: bytes, kind: str, name: str, *, days: float | None = None) -> bytes:
        """A certificate for the key in a CSR; the CSR must be self-signed and name `name`."""
        try:
            csr = x509.load_pem_x509_csr(csr_pem)
        except ValueError as err:
            raise PkiError(f"the certificate request is not a valid PEM CSR: {err}") from None
        if not csr.is_signature_valid:
            raise PkiError("the certificate request's signature is invalid")
        names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not names or names[0].value != name:
            got = names[0].value if names else "no common name"
            raise PkiError(f"the certificate request names {got!r}, expected {name!r}")
        public = csr.public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey):
            raise PkiError("the certificate request must carry an EC (P-256) public key")
        return self.sign(public, kind, name, days=days)

    def sign(
        self,
        public: ec.EllipticCurvePublicKey,
        kind: str,
        name: str,
        *,
        days: float | None = None,
        hosts: tuple[str, ...] = (),
        not_before: dt.datetime | None = None,
    ) -> bytes:
        check_name(kind, name)
        lifetime = dt.timedelta(days=days if days is not None else DEFAULT_DAYS[kind])
        # valid from a little in the past, for clocks that lag behind the hub's
        start = not_before or _now() - min(dt.timedelta(minutes=5), lifetime / 10)
        usage = [
            ExtendedKeyUsageOID.SERVER_AUTH if kind == "hub" else ExtendedKeyUsageOID.CLIENT_AUTH
        ]
        if kind == "relay":  # a site's relay serves its nodes and is a client of the hub
            usage.append(ExtendedKeyUsageOID.SERVER_AUTH)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_subject(kind, name))
            .issuer_name(self.cert.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + lifetime)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usage), critical=False)
        )
        if kind in ("hub", "relay"):
            sans: list[x509.GeneralName] = []
            for host in hosts or ("localhost", "127.0.0.1", "::1"):
                try:
                    sans.append(x509.IPAddress(ipaddress.ip_address(host)))
                except ValueError:
                    sans.append(x509.DNSName(host))
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM)

    def verify(self, cert_pem: bytes) -> Identity:
        """The identity in a certificate this CA signed and that is valid now."""
        ident = identity_of(cert_pem)
        cert = x509.load_pem_x509_certificate(cert_pem)
        public = self.key.public_key()
        try:
            public.verify(
                cert.signature,
                cert.tbs_certificate_bytes,
                ec.ECDSA(cert.signature_hash_algorithm or hashes.SHA256()),
            )
        except InvalidSignature:
            raise PkiError("the certificate was not issued by this CA") from None
        now = _now()
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise PkiError(f"the certificate is not valid now (expires {ident.not_after})")
        return ident


def identity_of(cert_pem: bytes) -> Identity:
    """Kind and name from a Tongchou certificate's subject (OU and CN)."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError as err:
        raise PkiError(f"not a PEM certificate: {err}") from None
    units = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not units or not names:
        raise PkiError("the certificate's subject has no OU (kind) or CN (name)")
    return Identity(
        str(units[0].value),
        str(names[0].value),
        cert.not_valid_after_utc,
        cert.serial_number,
        cert.not_valid_before_utc,
    )


def _write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Writes `path` with `mode`, also when it existed before with a wider one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), mode)
        out.write(data)
