"""Opening the store's security tables from a command run on the hub's machine."""

from __future__ import annotations

import getpass
from pathlib import Path

from console.store.audit import AuditEntry, AuditError
from console.store.audit_writer import open_log
from console.store.credentials import Credentials
from console.store.open import open_tables
from console.store.sqlite import StoreError

STORE_HELP = (
    "the hub's store: its SQLite file, or a postgresql:// URL (the password in"
    " $TONGCHOU_STORE_PASSWORD or $TONGCHOU_STORE_PASSWORD_FILE)"
)


class LocalAdmin:
    """Credentials and the audit log of one store (a file, or a PostgreSQL database), for
    `tongchou token` and `tongchou user`. Every change is audited with the operating-system
    login as the actor."""

    def __init__(self, store: str | Path, key: Path | None = None) -> None:
        try:
            tables = open_tables(store)  # a postgresql:// password: from the environment
            self.audit = open_log(tables, key, create=True)
            self.credentials = Credentials(
                tables if isinstance(tables, Path) else open_tables(store)
            )
        except StoreError as err:
            raise AuditError(str(err)) from None
        self.actor = f"local:{getpass.getuser()}"

    def record(self, action: str, obj: str, outcome: str = "ok", **kw: str) -> None:
        self.audit.append(AuditEntry(self.actor, action, obj, outcome, **kw))

    def close(self) -> None:
        self.audit.close()
        self.credentials.close()
