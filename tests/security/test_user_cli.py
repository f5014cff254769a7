"""`tongchou user` and `tongchou token` on a store file: roles, scopes, audit."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.security.local import LocalAdmin
from console.security.pki import CertificateAuthority, identity_of
from console.store.audit import AuditLog, default_key_path, load_key
from console.store.sqlite import SqliteStore
from tongchou.cli import main


def tongchou(*args: str) -> int:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    return int(done.value.code or 0)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "hub.db"
    SqliteStore(path).close()
    return path


def test_user_add_list_delete_are_audited(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tongchou("user", "add", "--store", str(store), "--name", "zhang.wei",
                    "--role", "operator", "--scope", "440106") == 0  # fmt: skip
    token = capsys.readouterr().out.strip()
    assert token.startswith("tcu_")
    admin = LocalAdmin(store)
    user = admin.credentials.user_by_token(token)
    admin.close()
    assert user is not None and (user.roles, user.scope) == (("operator",), "440106")
    assert tongchou("user", "list", "--store", str(store)) == 0
    assert "zhang.wei" in capsys.readouterr().out
    assert tongchou("user", "delete", "--store", str(store), "--name", "zhang.wei") == 0
    audit = AuditLog(store, load_key(default_key_path(store)))
    assert [r.action for r in audit.records()] == ["user.create", "user.delete"]
    assert audit.verify().ok
    audit.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "sysadmin", "--role", "secadmin"], "two administrator roles"),
        (["--role", "auditor", "--role", "viewer"], "auditor role holds no other role"),
        (["--role", "viewer", "--scope", "12"], "scope"),
        (["--role", "viewer", "--name", "bad name"], "certificate name"),
    ],
)
def test_user_add_refuses_bad_roles_and_scopes(
    store: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    base = ["user", "add", "--store", str(store)]
    if "--name" not in args:
        base += ["--name", "u1"]
    assert tongchou(*base, *args) == 2
    assert message in capsys.readouterr().err


def test_user_add_twice_and_missing_store(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["user", "add", "--store", str(store), "--name", "u1", "--role", "viewer"]
    assert tongchou(*args) == 0
    assert tongchou(*args) == 2
    assert "already exists" in capsys.readouterr().err
    assert tongchou("user", "list", "--store", str(tmp_path / "none.db")) == 2
    assert "no such store file" in capsys.readouterr().err


def test_token_create(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tongchou("token", "create", "--store", str(store), "--node", "n1", "--ttl", "5m") == 0
    token = capsys.readouterr().out.strip()
    admin = LocalAdmin(store)
    assert admin.credentials.consume_token(token) == "n1"
    admin.close()
    assert tongchou("token", "create", "--store", str(store), "--node", "n1", "--ttl", "3d") == 2
    assert "--ttl" in capsys.readouterr().err


def test_ca_revoke_is_audited(store: Path, tmp_path: Path) -> None:
    ca = CertificateAuthority.init(tmp_path / "ca")
    ca.issue("user", "zhang.wei").write(tmp_path, "zhang.wei")
    cert = tmp_path / "zhang.wei.crt"
    args = ["ca", "revoke", "--store", str(store), "--cert", str(cert), "--reason", "left"]
    assert tongchou(*args) == 0
    admin = LocalAdmin(store)
    assert admin.credentials.is_revoked(identity_of(cert.read_bytes()).serial)
    records = list(admin.audit.records())
    admin.close()
    assert [(r.action, r.object, r.outcome) for r in records] == [
        ("cert.revoke", "user/zhang.wei", "ok")
    ]
    assert tongchou("ca", "revoke", "--store", str(store), "--cert", str(tmp_path / "no")) == 2


def test_ca_issue_with_a_store_is_audited(store: Path, tmp_path: Path) -> None:
    assert tongchou("ca", "init", "--dir", str(tmp_path / "ca")) == 0
    args = ["ca", "issue", "--dir", str(tmp_path / "ca"), "--kind", "node", "--name", "n1"]
    assert tongchou(*args, "--store", str(store)) == 0
    admin = LocalAdmin(store)
    records = [(r.action, r.object) for r in admin.audit.records()]
    admin.close()
    assert records == [("cert.issue", "node/n1")]
