"""Roles, their permissions, separation of duties (三员分立), and division scopes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tongchou.divisions import DivisionCodeError, check_code, contains

ADMIN_ROLES = ("sysadmin", "secadmin", "auditor")

# role → permissions. Separation of the three administrators (三员分立): a sysadmin runs the
# hub and creates and deletes accounts, which carry no rights; a secadmin grants roles and
# policies and cannot create an account or hold its credential; an auditor reads the audit log
# and nothing else. A change to an administrator's or auditor's account needs a second
# administrator's approval (`change.approve`).
ROLES: dict[str, frozenset[str]] = {
    "viewer": frozenset({"inventory.read", "workload.read"}),
    "operator": frozenset({"inventory.read", "workload.read", "workload.write"}),
    # a planner submits a plan's workloads (plan.submit), not workloads of its own
    "planner": frozenset({"inventory.read", "workload.read", "plan.run", "plan.submit"}),
    "sysadmin": frozenset(
        {
            "inventory.read",
            "workload.read",
            "cluster.write",
            "hub.write",
            "account.write",
            "user.read",
            "change.approve",
        }
    ),
    "secadmin": frozenset({"user.read", "role.write", "policy.write", "change.approve"}),
    "auditor": frozenset({"audit.read"}),
}


class RoleError(ValueError):
    """Roles or a scope that break the rules; the message says which."""


def check_roles(roles: Iterable[str], *, allow_none: bool = False) -> tuple[str, ...]:
    """The roles, sorted, if they may be held together; raises RoleError otherwise."""
    out = tuple(sorted(set(roles)))
    if not out and not allow_none:
        raise RoleError("a user needs at least one role")
    unknown = [r for r in out if r not in ROLES]
    if unknown:
        raise RoleError(f"unknown role {unknown[0]!r} (roles: {', '.join(ROLES)})")
    admins = [r for r in out if r in ADMIN_ROLES]
    if len(admins) > 1:
        both = " and ".join(admins)
        raise RoleError(f"separation of duties: no user may hold two administrator roles ({both})")
    if admins and len(out) > 1:
        raise RoleError(
            f"separation of duties: a user with the {admins[0]} role holds no other role"
        )
    return out


def is_privileged(roles: Iterable[str]) -> bool:
    """True for an administrator's or auditor's roles: changes to them need a second admin."""
    return any(r in ADMIN_ROLES for r in roles)


def check_scope(scope: str) -> str:
    """A division code, or "" for the whole fleet. Raises RoleError."""
    if not scope:
        return ""
    try:
        return check_code(scope)
    except DivisionCodeError as err:
        raise RoleError(f"scope: {err}") from None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user (by token or certificate) or a node (by certificate)."""

    kind: str  # "user" or "node"
    name: str
    roles: tuple[str, ...] = ()
    scope: str = ""  # "" for the whole fleet

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.name}"

    def permissions(self) -> frozenset[str]:
        out: set[str] = set()
        for role in self.roles:
            out |= ROLES.get(role, frozenset())
        return frozenset(out)

    def may(self, permission: str) -> bool:
        return permission in self.permissions()

    def sees(self, division: str) -> bool:
        """True when `division` lies in this principal's scope (never for a bad code)."""
        if not self.scope:
            return True
        try:
            return contains(self.scope, division)
        except DivisionCodeError:
            return False

    def covers(self, division: str) -> bool:
        """True when this principal's scope holds the whole subtree of `division`."""
        return not self.scope or (bool(division) and self.sees(division))
