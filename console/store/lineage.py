"""Issued certificates in the store: each serial with its lineage (the chain of renewals it
belongs to), and revocation of whole lineages or of every certificate of a name."""

from __future__ import annotations

import time
from dataclasses import dataclass

from console.store.sql import Database

_CERT = "serial, kind, name, lineage, parent, owner, not_before, not_after, issued_at, issued_by"


def serial_hex(serial: int) -> str:
    return f"{serial:x}"


@dataclass(frozen=True, slots=True)
class CertRecord:
    """One issued certificate: `lineage` is the serial of the first certificate of its chain
    of renewals, `parent` the one it renewed ('' for the first), `owner` the user record a
    user certificate is bound to."""

    serial: str
    kind: str
    name: str
    lineage: str
    parent: str
    owner: str
    not_before: float
    not_after: float
    issued_at: float
    issued_by: str


class CertificateRecords:
    """The certificate tables of a store (part of `Credentials`, which holds the database)."""

    db: Database

    # --- issued certificates and their lineage

    def record_certificate(
        self,
        serial: int,
        kind: str,
        name: str,
        not_before: float,
        not_after: float,
        *,
        parent: int | None = None,
        owner: str = "",
        issued_by: str = "",
        now: float | None = None,
    ) -> CertRecord:
        """Records an issued certificate; a renewal (with `parent`) joins its parent's lineage."""
        now = time.time() if now is None else now
        lineage = serial_hex(serial)
        parent_hex = serial_hex(parent) if parent is not None else ""
        with self.db.transaction() as s:
            if parent is not None:
                row = s.one(
                    "SELECT lineage, owner FROM certificates WHERE serial = ?", (parent_hex,)
                )
                if row is not None:
                    lineage, owner = str(row[0]), owner or str(row[1])
                else:
                    lineage = parent_hex  # the parent was issued without a store
            record = CertRecord(
                serial_hex(serial),
                kind,
                name,
                lineage,
                parent_hex,
                owner,
                not_before,
                not_after,
                now,
                issued_by,
            )
            s.execute(
                "INSERT INTO certificates VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.serial,
                    kind,
                    name,
                    lineage,
                    parent_hex,
                    owner,
                    not_before,
                    not_after,
                    now,
                    issued_by,
                ),
            )
        return record

    def certificate(self, serial: int) -> CertRecord | None:
        with self.db.session() as s:
            row = s.one(f"SELECT {_CERT} FROM certificates WHERE serial = ?", (serial_hex(serial),))
        return CertRecord(*row) if row is not None else None

    def certificates(self, kind: str = "", name: str = "") -> list[CertRecord]:
        """Every recorded certificate (of one kind and name, when given), oldest first."""
        with self.db.session() as s:
            rows = s.all(
                f"SELECT {_CERT} FROM certificates WHERE (? = '' OR kind = ?)"
                " AND (? = '' OR name = ?) ORDER BY issued_at",
                (kind, kind, name, name),
            )
        return [CertRecord(*row) for row in rows]

    def lineage(self, lineage: str) -> list[CertRecord]:
        """The recorded certificates of a lineage, oldest first."""
        with self.db.session() as s:
            rows = s.all(
                f"SELECT {_CERT} FROM certificates WHERE lineage = ? ORDER BY issued_at",
                (lineage,),
            )
        return [CertRecord(*row) for row in rows]

    def last_renewal(self, lineage: str) -> float | None:
        """When the newest renewal in a lineage was issued; None when it was never renewed."""
        with self.db.session() as s:
            row = s.one(
                "SELECT MAX(issued_at) FROM certificates WHERE lineage = ? AND parent != ''",
                (lineage,),
            )
        return float(row[0]) if row and row[0] is not None else None

    # --- revocation

    def revoke(self, serial: int, name: str, reason: str, *, kind: str = "") -> bool:
        """Revokes the whole lineage of a certificate (every renewal before and after it);
        False when it already was."""
        record = self.certificate(serial)
        lineage = record.lineage if record else serial_hex(serial)
        return self._revoke_lineage(lineage, record.kind if record else kind, name, reason)

    def _revoke_lineage(self, lineage: str, kind: str, name: str, reason: str) -> bool:
        with self.db.session() as s:
            done = s.execute(
                "INSERT INTO revoked_lineages VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (lineage) DO NOTHING",
                (lineage, kind, name, time.time(), reason),
            )
            return done.rowcount > 0

    def revoke_name(
        self, kind: str, name: str, reason: str, *, now: float | None = None
    ) -> list[str]:
        """Revokes every lineage recorded for `kind`/`name`, and every certificate of that
        name issued without a store before now. Returns the lineages newly revoked."""
        now = time.time() if now is None else now
        lineages = sorted({c.lineage for c in self.certificates(kind, name)})
        fresh = [ln for ln in lineages if self._revoke_lineage(ln, kind, name, reason)]
        with self.db.session() as s:
            s.execute(
                "INSERT INTO revoked_names VALUES (?, ?, ?, ?) ON CONFLICT (kind, name)"
                " DO UPDATE SET before = excluded.before, reason = excluded.reason",
                (kind, name, now, reason),
            )
        return fresh

    def is_revoked(
        self, serial: int, kind: str = "", name: str = "", not_before: float | None = None
    ) -> bool:
        """True when the certificate's lineage was revoked, or (for a certificate issued
        without a store) its name was revoked after it was made."""
        record = self.certificate(serial)
        lineage = record.lineage if record else serial_hex(serial)
        with self.db.session() as s:
            row = s.one(
                "SELECT 1 FROM revoked_lineages WHERE lineage = ? UNION ALL"
                " SELECT 1 FROM revoked_certs WHERE serial = ?",
                (lineage, str(serial)),
            )
            if row is not None:
                return True
            if record is not None or not kind or not_before is None:
                return False
            cut = s.one(
                "SELECT before FROM revoked_names WHERE kind = ? AND name = ?", (kind, name)
            )
        return cut is not None and not_before < float(cut[0])
