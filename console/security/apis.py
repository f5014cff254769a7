"""UserService and AuditService: users and roles (secadmin), the audit log (auditor)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc

from console.security.authz import METHODS, current_principal, methods_for
from console.security.pki import PkiError, check_name
from console.security.roles import Principal, RoleError, check_roles, check_scope
from console.store.audit import AuditLog
from console.store.credentials import CredentialError, Credentials, User
from tongchou.v1 import security_pb2, security_pb2_grpc


def principal_message(principal: Principal) -> security_pb2.Principal:
    return security_pb2.Principal(
        name=principal.name,
        roles=list(principal.roles),
        scope=principal.scope,
        methods=methods_for(principal),
    )


def _caller() -> Principal:
    principal = current_principal()
    if principal is None:  # a hub without authentication (--insecure)
        return Principal("user", "anonymous", ("viewer",))
    return principal


class UserApi(security_pb2_grpc.UserServiceServicer):
    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials

    async def WhoAmI(
        self, request: security_pb2.WhoAmIRequest, context: Any
    ) -> security_pb2.Principal:
        principal = current_principal()
        if principal is None:  # a hub without authentication: nobody, and every method
            return security_pb2.Principal(methods=sorted(METHODS))
        return principal_message(principal)

    async def ListUsers(
        self, request: security_pb2.ListUsersRequest, context: Any
    ) -> security_pb2.ListUsersResponse:
        caller = _caller()
        users = [
            u
            for u in self.credentials.users()
            if not caller.scope or (u.scope and caller.sees(u.scope))
        ]
        return security_pb2.ListUsersResponse(
            users=[principal_message(Principal("user", u.name, u.roles, u.scope)) for u in users]
        )

    async def CreateUser(
        self, request: security_pb2.CreateUserRequest, context: Any
    ) -> security_pb2.CreateUserResponse:
        caller = _caller()
        try:
            check_name("user", request.name)
            roles = check_roles(request.roles)
            scope = check_scope(request.scope)
        except (RoleError, PkiError) as err:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
            raise  # not reached
        if not caller.covers(scope):
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"{caller.actor} is scoped to {caller.scope} and cannot create a user "
                f"scoped to {scope or 'the whole fleet'}",
            )
        user = User(request.name, roles, scope)
        try:
            token = self.credentials.add_user(user)
        except CredentialError as err:
            await context.abort(grpc.StatusCode.ALREADY_EXISTS, str(err))
            raise  # not reached
        return security_pb2.CreateUserResponse(
            user=principal_message(Principal("user", user.name, roles, scope)), token=token
        )

    async def DeleteUser(
        self, request: security_pb2.DeleteUserRequest, context: Any
    ) -> security_pb2.DeleteUserResponse:
        caller = _caller()
        user = self.credentials.user(request.name)
        if user is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no user {request.name!r}")
            return security_pb2.DeleteUserResponse()  # not reached: abort raises
        if not caller.covers(user.scope):
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"{caller.actor} is scoped to {caller.scope}; user {user.name} is not",
            )
        self.credentials.delete_user(request.name)
        return security_pb2.DeleteUserResponse()


class AuditApi(security_pb2_grpc.AuditServiceServicer):
    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit

    async def ExportAudit(
        self, request: security_pb2.ExportAuditRequest, context: Any
    ) -> AsyncIterator[security_pb2.AuditRecord]:
        for record in self.audit.records(since=request.since):
            yield security_pb2.AuditRecord(
                seq=record.seq, at=record.at, actor=record.actor, role=record.role,
                scope=record.scope, action=record.action, object=record.object,
                outcome=record.outcome, digest=record.digest, detail=record.detail,
                prev=record.prev, hash=record.hash,
            )  # fmt: skip

    async def VerifyAudit(
        self, request: security_pb2.VerifyAuditRequest, context: Any
    ) -> security_pb2.VerifyAuditResponse:
        verdict = await asyncio.to_thread(self.audit.verify)  # the whole chain: off the loop
        return security_pb2.VerifyAuditResponse(
            ok=verdict.ok,
            records=verdict.records,
            bad_seq=verdict.bad_seq or 0,
            problem=verdict.problem,
        )
