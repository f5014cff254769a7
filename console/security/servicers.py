"""The hub's security services, built from its store and flags: UserService, AuditService
and JoinService (each only when the hub has what it needs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from console.security.accounts import UserApi
from console.security.apis import AuditApi
from console.security.binding import AuditSink
from console.security.join import JoinApi, load_ca
from console.security.trail import AuditTrail
from console.store.credentials import Credentials, NodePlace


@dataclass(frozen=True, slots=True)
class SecurityServicers:
    users: UserApi | None
    audit: AuditApi | None
    join: JoinApi | None


def security_servicers(
    credentials: Credentials | None,
    trail: AuditTrail | None,
    record: AuditSink,
    *,
    ca_dir: Path | None,
    mutual_tls: bool,
    delivery: Path | None,
    node_cert_days: float,
    enrolled: Callable[[str, NodePlace | None], None] = lambda _node, _place: None,
) -> SecurityServicers:
    """Raises RuntimeError when joining is asked for without what it needs."""
    ca = load_ca(ca_dir)  # signs join, renewal and user requests
    join = None
    if ca is not None:
        if credentials is None or not mutual_tls:
            raise RuntimeError("joining nodes needs mutual TLS and a SQLite store")
        join = JoinApi(ca, credentials, record, node_cert_days=node_cert_days, enrolled=enrolled)
    users = None
    if credentials is not None:
        users = UserApi(credentials, record, ca=ca, delivery=delivery)
    audit = AuditApi(trail.log, trail.flush) if trail is not None else None
    return SecurityServicers(users, audit, join)
