"""The CA: issuing, identities, CSRs, and the `tongchou ca` command."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from console.security.pki import CertificateAuthority, PkiError, identity_of, new_key
from tongchou.cli import main


def test_issued_certificate_names_kind_and_node(ca: CertificateAuthority) -> None:
    issued = ca.issue("node", "gz-tianhe-01", days=30)
    ident = ca.verify(issued.cert_pem)
    assert (ident.kind, ident.name) == ("node", "gz-tianhe-01")
    assert dt.timedelta(days=29) < ident.not_after - dt.datetime.now(dt.UTC) < dt.timedelta(days=31)


def test_other_ca_and_expired_are_refused(ca: CertificateAuthority, tmp_path: Path) -> None:
    other = CertificateAuthority.init(tmp_path / "other")
    with pytest.raises(PkiError, match="not issued by this CA"):
        ca.verify(other.issue("node", "n1").cert_pem)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    with pytest.raises(PkiError, match="not valid now"):
        ca.verify(ca.issue("node", "n1", days=1, not_before=past).cert_pem)


def test_ca_refuses_to_overwrite_and_bad_names(ca: CertificateAuthority, tmp_path: Path) -> None:
    with pytest.raises(PkiError, match="already exists"):
        CertificateAuthority.init(tmp_path / "ca")
    with pytest.raises(PkiError, match="certificate name"):
        ca.issue("node", "bad name/..")
    with pytest.raises(PkiError, match="kind"):
        ca.issue("root", "x")
    key = stat.S_IMODE(os.stat(tmp_path / "ca" / "ca.key").st_mode)
    assert key == 0o600


def test_csr_must_name_the_expected_node(ca: CertificateAuthority) -> None:
    key = new_key()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "n1")]))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )
    cert = ca.sign_csr(csr, "node", "n1")
    assert identity_of(cert).name == "n1"
    with pytest.raises(PkiError, match="expected 'n2'"):
        ca.sign_csr(csr, "node", "n2")
    with pytest.raises(PkiError, match="not a valid PEM CSR"):
        ca.sign_csr(b"garbage", "node", "n1")


def test_ca_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "pki"
    with pytest.raises(SystemExit) as done:
        main(["ca", "init", "--dir", str(d)])
    assert done.value.code == 0
    with pytest.raises(SystemExit) as done:
        main(
            ["ca", "issue", "--dir", str(d), "--kind", "hub", "--name", "hub", "--host", "10.0.0.1"]
        )
    assert done.value.code == 0
    cert = x509.load_pem_x509_certificate((d / "hub.crt").read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "10.0.0.1" in [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)]
    with pytest.raises(SystemExit) as done:
        main(["ca", "issue", "--dir", str(tmp_path / "none"), "--kind", "node", "--name", "n"])
    assert done.value.code == 2
    assert "no CA here" in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:
        main(["ca", "issue", "--dir", str(d), "--kind", "node", "--name", "n", "--host", "x"])
    assert done.value.code == 2
