"""`tongchou hub` with a PostgreSQL store: what a user can get wrong is named, exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT
from tests.pgserver import PostgresServer


def hub(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tongchou", "hub", "--listen", "127.0.0.1:0",
         "--metrics-listen", "", *args],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


@pytest.fixture
def url(pg_server: PostgresServer) -> str:
    return pg_server.url(pg_server.create_database())


def test_wrong_password(url: str, tmp_path: Path) -> None:
    wrong = tmp_path / "password"
    wrong.write_text("not-it\n")
    done = hub("--store", url, "--store-password-file", str(wrong), "--insecure")
    assert done.returncode == 2
    assert "cannot connect to the PostgreSQL store: " in done.stderr
    assert "password authentication failed" in done.stderr
    assert "not-it" not in done.stderr


def test_missing_password_file(url: str, tmp_path: Path) -> None:
    done = hub("--store", url, "--store-password-file", str(tmp_path / "nope"), "--insecure")
    assert done.returncode == 2
    assert f"{tmp_path / 'nope'}: cannot read the store password" in done.stderr


def test_password_file_with_a_sqlite_store(tmp_path: Path) -> None:
    done = hub(
        "--store", str(tmp_path / "hub.db"), "--store-password-file", str(tmp_path), "--insecure"
    )
    assert done.returncode == 2
    assert "only for a postgresql:// store" in done.stderr


def test_mutual_tls_on_a_postgresql_store_needs_the_shared_audit_key(
    url: str, pg_server: PostgresServer, tmp_path: Path
) -> None:
    """No file to keep the key beside: the hub says which flag, and exits 2."""
    from console.security.pki import CertificateAuthority

    ca = CertificateAuthority.init(tmp_path / "ca")
    cert, key = ca.issue("hub", "localhost", hosts=("127.0.0.1",)).write(tmp_path, "hub")
    done = hub(
        "--store", url, "--tls-ca", str(tmp_path / "ca" / "ca.crt"), "--tls-cert", str(cert),
        "--tls-key", str(key), env={"TONGCHOU_STORE_PASSWORD": pg_server.password},
    )  # fmt: skip
    assert done.returncode == 2
    assert "a postgresql:// store needs the audit key named (--audit-key" in done.stderr
