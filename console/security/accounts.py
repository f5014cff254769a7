"""UserService: accounts (sysadmin), roles (secadmin), changes a second administrator approves,
and enrolment with a one-time code delivered to the user or with the user's own key."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import grpc

from console.security.apis import caller, principal_message
from console.security.authz import METHODS, current_principal
from console.security.binding import AuditSink
from console.security.pki import CertificateAuthority, PkiError, check_name, identity_of
from console.security.roles import Principal, RoleError, check_roles, check_scope, is_privileged
from console.security.unavailable import answers_unavailable
from console.store.audit import AuditEntry
from console.store.credentials import CredentialError, Credentials, PendingChange, User
from console.store.offloop import STORE_SECONDS, StoreUnavailable, off_loop
from tongchou.v1 import security_pb2, security_pb2_grpc

CODE_TTL = 24 * 3600.0  # an enrolment code is good for a day
_R = TypeVar("_R")


_unavailable_when_the_store_is = answers_unavailable(
    "the hub's user store", "the change was not confirmed: list the users before trying again"
)


def change_message(change: PendingChange) -> security_pb2.PendingChange:
    return security_pb2.PendingChange(
        id=change.id,
        action=change.action,
        user=change.user,
        roles=list(change.roles),
        requested_by=change.requested_by,
        requested_at=change.requested_at,
    )


def deliver_code(directory: Path, name: str, code: str) -> Path:
    """Writes the code to `<directory>/<name>.code` (0600), for the channel that carries it to
    the user (mail, SMS); no API reply ever holds it."""
    path = directory / f"{name}.code"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(code + "\n")
    return path


class UserApi(security_pb2_grpc.UserServiceServicer):
    def __init__(
        self,
        credentials: Credentials,
        audit: AuditSink = lambda _entry: None,
        *,
        ca: CertificateAuthority | None = None,
        delivery: Path | None = None,
        user_cert_days: float = 90.0,
    ) -> None:
        self.credentials = credentials
        self.audit = audit
        self.ca = ca
        self.delivery = delivery
        self.user_cert_days = user_cert_days
        self.store_seconds = STORE_SECONDS  # a call waits this long for the store

    async def _db(self, call: Callable[..., _R], *args: Any, **kwargs: Any) -> _R:
        """The store and the delivery directory are read and written off the loop, within
        `store_seconds`; StoreUnavailable when they fail."""
        return await off_loop(
            call, *args, seconds=self.store_seconds, passing=(CredentialError,), **kwargs
        )

    # --- reading

    @_unavailable_when_the_store_is
    async def WhoAmI(
        self, request: security_pb2.WhoAmIRequest, context: Any
    ) -> security_pb2.Principal:
        principal = current_principal()
        if principal is None:  # a hub without authentication: nobody, and every method
            return security_pb2.Principal(methods=sorted(METHODS))
        return principal_message(principal)

    @_unavailable_when_the_store_is
    async def ListUsers(
        self, request: security_pb2.ListUsersRequest, context: Any
    ) -> security_pb2.ListUsersResponse:
        me = caller()
        users = [u for u in await self._db(self.credentials.users) if self._visible(me, u)]
        return security_pb2.ListUsersResponse(
            users=[principal_message(Principal("user", u.name, u.roles, u.scope)) for u in users]
        )

    @_unavailable_when_the_store_is
    async def ListChanges(
        self, request: security_pb2.ListChangesRequest, context: Any
    ) -> security_pb2.ListChangesResponse:
        me = caller()
        changes = [c for c in await self._db(self._pending) if self._visible(me, c[1])]
        return security_pb2.ListChangesResponse(changes=[change_message(c) for c, _u in changes])

    def _pending(self) -> list[tuple[PendingChange, User | None]]:
        return [(c, self.credentials.user(c.user)) for c in self.credentials.pending()]

    def _deliver(self, directory: Path, name: str) -> None:
        deliver_code(directory, name, self.credentials.issue_enrolment_code(name, CODE_TTL))

    @staticmethod
    def _visible(me: Principal, user: User | None) -> bool:
        return user is not None and (not me.scope or (bool(user.scope) and me.sees(user.scope)))

    async def _account(self, me: Principal, name: str, context: Any) -> User:
        """The account `name` when the caller's scope covers it; one NOT_FOUND otherwise."""
        user = await self._db(self.credentials.user, name)
        if user is None or not me.covers(user.scope):
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no user {name!r}")
            raise AssertionError("not reached: abort raises")
        return user

    # --- accounts (sysadmin)

    @_unavailable_when_the_store_is
    async def CreateUser(
        self, request: security_pb2.CreateUserRequest, context: Any
    ) -> security_pb2.CreateUserResponse:
        me = caller()
        try:
            check_name("user", request.name)
            scope = check_scope(request.scope)
            if request.roles:
                raise RoleError(
                    "roles: an account is created without rights; a security administrator "
                    "grants its roles (GrantRoles)"
                )
        except (RoleError, PkiError) as err:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
            raise  # not reached
        if not me.covers(scope):
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"{me.actor} is scoped to {me.scope} and cannot create a user "
                f"scoped to {scope or 'the whole fleet'}",
            )
        if request.csr_pem and self.ca is None:
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                "csr_pem: this hub has no CA to sign user certificates (tongchou hub --ca-dir)",
            )
        try:
            user = await self._db(self.credentials.add_account, request.name, scope)
        except CredentialError as err:
            await context.abort(grpc.StatusCode.ALREADY_EXISTS, str(err))
            raise  # not reached
        reply = security_pb2.CreateUserResponse(
            user=principal_message(Principal("user", user.name, (), scope))
        )
        if request.csr_pem:
            reply.cert_pem = await self._certify(
                user, request.csr_pem, me.actor, context, rollback=True
            )
            reply.enrolment = "certificate for the user's own key"
        else:
            reply.enrolment = await self._send_code(me, user)
        return reply

    async def _send_code(self, me: Principal, user: User) -> str:
        """Delivers a new account's enrolment code, if this hub has a delivery directory;
        says how the user enrols. An account whose code cannot be stored is taken back."""
        if self.delivery is None:
            return (
                "none: this hub has no delivery directory; issue a code on the hub's host "
                "(tongchou user enrol-code) for the user"
            )
        try:
            await self._db(self._deliver, self.delivery, user.name)
        except StoreUnavailable:  # no account without its enrolment code
            await self._db(self.credentials.delete_user, user.name)
            raise
        entry = AuditEntry(
            me.actor, "user.enrol-code", f"user/{user.name}", "ok", detail="delivered; valid 24h"
        )
        self.audit(entry)
        return "enrolment code sent to the user through the delivery directory"

    async def _certify(
        self, user: User, csr_pem: str, actor: str, context: Any, *, rollback: bool = False
    ) -> str:
        assert self.ca is not None
        try:
            cert = self.ca.sign_csr(csr_pem.encode(), "user", user.name, days=self.user_cert_days)
        except PkiError as err:
            if rollback:  # the account was made for this certificate: not without it
                await self._db(self.credentials.delete_user, user.name)
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"csr_pem: {err}")
            raise  # not reached
        ident = identity_of(cert)
        try:  # a certificate not recorded is never handed out
            record = await self._db(
                self.credentials.record_certificate,
                ident.serial,
                "user",
                user.name,
                ident.not_before.timestamp(),
                ident.not_after.timestamp(),
                owner=user.id,
                issued_by=actor,
            )
        except StoreUnavailable:
            if rollback:
                await self._db(self.credentials.delete_user, user.name)
            raise
        self.audit(
            AuditEntry(
                actor, "cert.issue", f"user/{user.name}", "ok", detail=f"serial {record.serial}"
            )
        )
        return cert.decode()

    @_unavailable_when_the_store_is
    async def DeleteUser(
        self, request: security_pb2.DeleteUserRequest, context: Any
    ) -> security_pb2.ChangeResponse:
        me = caller()
        user = await self._account(me, request.name, context)
        if is_privileged(user.roles):
            change = await self._db(self.credentials.propose, "delete", user.name, (), me.actor)
            return security_pb2.ChangeResponse(applied=False, pending=change_message(change))
        await self._db(self.credentials.delete_user, user.name)
        return security_pb2.ChangeResponse(applied=True)

    # --- roles (secadmin)

    @_unavailable_when_the_store_is
    async def GrantRoles(
        self, request: security_pb2.GrantRolesRequest, context: Any
    ) -> security_pb2.ChangeResponse:
        me = caller()
        user = await self._account(me, request.name, context)
        try:
            roles = check_roles(request.roles, allow_none=True)
        except RoleError as err:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"roles: {err}")
            raise  # not reached
        if user.name == me.name:
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED,
                "separation of duties: no administrator grants roles to their own account",
            )
        if is_privileged(user.roles) or is_privileged(roles):
            change = await self._db(self.credentials.propose, "grant", user.name, roles, me.actor)
            return security_pb2.ChangeResponse(applied=False, pending=change_message(change))
        await self._db(self.credentials.set_roles, user.name, roles)
        return security_pb2.ChangeResponse(applied=True)

    # --- approvals (a second administrator)

    @_unavailable_when_the_store_is
    async def ApproveChange(
        self, request: security_pb2.ApproveChangeRequest, context: Any
    ) -> security_pb2.ChangeResponse:
        me = caller()
        found = next((c for c in await self._db(self._pending) if c[0].id == request.id), None)
        change = found[0] if found is not None else None
        if change is None or not self._visible(me, found[1] if found else None):
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no pending change {request.id!r}")
            raise AssertionError("not reached")
        if change.requested_by == me.actor or change.user == me.name:
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"change {change.id} needs a second administrator: {me.actor} asked for it "
                "or is the account it concerns",
            )
        # The change is written before it leaves the pending list: a store that fails in
        # between leaves it pending (approving it again is harmless), never lost.
        if change.action == "delete":
            await self._db(self.credentials.delete_user, change.user)
        else:
            await self._db(self.credentials.set_roles, change.user, change.roles)
        await self._db(self.credentials.take_pending, change.id)
        roles = ",".join(change.roles) or "no role"
        what = f"delete {change.user}" if change.action == "delete" else f"{change.user}: {roles}"
        self.audit(
            AuditEntry(
                me.actor,
                f"user.{change.action}",
                f"user/{change.user}",
                "ok",
                role=",".join(me.roles),
                detail=f"change {change.id} ({what}) asked by "
                f"{change.requested_by}, approved by {me.actor}",
            )
        )
        return security_pb2.ChangeResponse(applied=True, pending=change_message(change))

    # --- enrolment (the user, with the code delivered to them)

    @_unavailable_when_the_store_is
    async def Enrol(
        self, request: security_pb2.EnrolRequest, context: Any
    ) -> security_pb2.EnrolResponse:
        obj = f"user/{request.name[:64]}"
        try:
            user, token = await self._db(self.credentials.enrol, request.name, request.code)
        except CredentialError as err:
            self.audit(
                AuditEntry(
                    "anonymous",
                    "user.enrol",
                    obj,
                    "unauthenticated",
                    detail=str(err),
                    peer=context.peer(),
                )
            )
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(err))
            raise  # not reached
        reply = security_pb2.EnrolResponse(token=token)
        if request.csr_pem and self.ca is not None:
            actor = f"user:{user.name}"
            reply.cert_pem = await self._certify(user, request.csr_pem, actor, context)
            reply.ca_pem = self.ca.cert_pem.decode()
        self.audit(
            AuditEntry(
                f"user:{user.name}",
                "user.enrol",
                obj,
                "ok",
                role=",".join(user.roles),
                scope=user.scope,
                detail="certificate" if reply.cert_pem else "bearer token",
            )
        )
        return reply
