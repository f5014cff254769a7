"""Opening the store's security tables from a command run on the hub's machine."""

from __future__ import annotations

import getpass
from pathlib import Path

from console.store.audit import AuditEntry, AuditError
from console.store.audit_writer import open_log
from console.store.credentials import Credentials


class LocalAdmin:
    """Credentials and the audit log of one store file, for `tongchou token` and `tongchou
    user`. Every change is audited with the operating-system login as the actor."""

    def __init__(self, store: Path, key: Path | None = None) -> None:
        if not store.is_file():
            raise AuditError(f"{store}: no such store file (start the hub once to create it)")
        self.audit = open_log(store, key, create=True)
        self.credentials = Credentials(store)
        self.actor = f"local:{getpass.getuser()}"

    def record(self, action: str, obj: str, outcome: str = "ok", **kw: str) -> None:
        self.audit.append(AuditEntry(self.actor, action, obj, outcome, **kw))

    def close(self) -> None:
        self.audit.close()
        self.credentials.close()
