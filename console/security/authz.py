"""The console API's guard: a gRPC server interceptor that authenticates every call, checks it
against a table from full method name to permission (deny by default), applies the caller's
division scope, and audits every mutation and every refusal."""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc

from console.security.roles import Principal
from console.security.tls import peer_identity
from console.store.audit import AuditEntry
from console.store.credentials import Credentials

log = logging.getLogger("tongchou.security.authz")

PUBLIC = "public"  # no authentication (health checks; joining, which a token authenticates)
NODE = "node"  # the service itself checks the node's certificate (agent stream, renewal)
ANY = "any"  # any authenticated user


@dataclass(frozen=True, slots=True)
class Rule:
    """What a method needs: a permission (or PUBLIC/NODE/ANY); `action` names it in the audit
    log when it changes something (reads are audited only when refused); `scoped` methods
    need a scope hook before a user with a division scope may call them."""

    permission: str
    action: str = ""
    scoped: bool = False


# Adding a method is one line here. A method missing from the table is refused.
METHODS: dict[str, Rule] = {
    "/tongchou.v1.InventoryService/GetFleetSummary": Rule("inventory.read", scoped=True),
    "/tongchou.v1.InventoryService/ListNodes": Rule("inventory.read", scoped=True),
    "/tongchou.v1.InventoryService/GetNode": Rule("inventory.read", scoped=True),
    "/tongchou.v1.InventoryService/Watch": Rule("inventory.read", scoped=True),
    "/tongchou.v1.InventoryService/ListDivisions": Rule("inventory.read", scoped=True),
    "/tongchou.v1.InventoryService/GetDivision": Rule("inventory.read", scoped=True),
    "/tongchou.v1.InventoryService/ListSites": Rule("inventory.read", scoped=True),
    "/tongchou.v1.InventoryService/GetSite": Rule("inventory.read", scoped=True),
    "/tongchou.v1.InventoryService/ListClusters": Rule("inventory.read", scoped=True),
    "/tongchou.v1.InventoryService/GetCluster": Rule("inventory.read", scoped=True),
    "/tongchou.v1.PolicyService/ListPolicies": Rule("workload.read", scoped=True),
    "/tongchou.v1.PolicyService/CheckPolicies": Rule("workload.read", scoped=True),
    "/tongchou.v1.WorkloadService/SubmitWorkload": Rule(
        "workload.write", "workload.submit", scoped=True
    ),
    "/tongchou.v1.WorkloadService/DeleteWorkload": Rule(
        "workload.write", "workload.delete", scoped=True
    ),
    "/tongchou.v1.WorkloadService/ListWorkloads": Rule("workload.read", scoped=True),
    "/tongchou.v1.WorkloadService/GetWorkload": Rule("workload.read", scoped=True),
    "/tongchou.v1.WorkloadService/ExplainWorkload": Rule("workload.read", scoped=True),
    "/tongchou.v1.PlanService/RunPlan": Rule("plan.run", "plan.run", scoped=True),
    # A plan covers the demands of every division: not for a scoped user (no scope hook).
    "/tongchou.v1.PlanService/ListPlans": Rule("plan.run", scoped=True),
    "/tongchou.v1.PlanService/GetPlan": Rule("plan.run", scoped=True),
    "/tongchou.v1.AuditService/ExportAudit": Rule("audit.read", "audit.export"),
    "/tongchou.v1.AuditService/VerifyAudit": Rule("audit.read"),
    "/tongchou.v1.UserService/WhoAmI": Rule(ANY),
    "/tongchou.v1.UserService/ListUsers": Rule("user.read"),
    "/tongchou.v1.UserService/CreateUser": Rule("user.write", "user.create"),
    "/tongchou.v1.UserService/DeleteUser": Rule("user.write", "user.delete"),
    "/tongchou.v1.AgentService/Connect": Rule(NODE),
    "/tongchou.v1.RelayService/Forward": Rule(NODE),  # the relay's certificate: relay/ingest.py
    "/tongchou.v1.JoinService/Join": Rule(PUBLIC),
    "/tongchou.v1.JoinService/Renew": Rule(NODE),
    "/grpc.health.v1.Health/Check": Rule(PUBLIC),
    "/grpc.health.v1.Health/Watch": Rule(PUBLIC),
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": Rule(ANY),
}

CURRENT: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "tongchou_principal", default=None
)


def current_principal() -> Principal | None:
    """The caller of the RPC being handled (None on a hub without authentication)."""
    return CURRENT.get()


class Refused(Exception):
    """A call refused; `code` is the gRPC status, `reason` a metric label."""

    def __init__(self, code: grpc.StatusCode, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message


# A scope hook sees the request and the caller; it returns the request (maybe narrowed to the
# caller's scope) or raises Refused. A filter narrows a unary response.
ScopeHook = Callable[[Any, Principal], Any]
ResponseFilter = Callable[[Any, Principal], Any]


def methods_for(principal: Principal) -> list[str]:
    allowed = principal.permissions()
    return sorted(m for m, r in METHODS.items() if r.permission == ANY or r.permission in allowed)


class Guard(grpc.aio.ServerInterceptor):
    def __init__(
        self,
        credentials: Credentials,
        audit: Callable[[AuditEntry], None],
        denied: Callable[[str], None] = lambda _reason: None,
        *,
        methods: dict[str, Rule] | None = None,
    ) -> None:
        self.credentials = credentials
        self.audit = audit
        self.denied = denied  # counts a refusal by reason
        self.methods = METHODS if methods is None else methods
        self.scopes: dict[str, ScopeHook] = {}
        self.filters: dict[str, ResponseFilter] = {}

    async def intercept_service(  # type: ignore[override]
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]
        ],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(details)
        if handler is None:
            return handler
        method: str = details.method
        rule = self.methods.get(method)
        if rule is not None and rule.permission in (PUBLIC, NODE):
            return handler
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(method, rule, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(method, rule, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        refuse = self._refuse_streaming(method)
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(
                refuse,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return grpc.stream_stream_rpc_method_handler(
            refuse,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    # --- the checks

    def authenticate(self, context: Any, method: str) -> Principal:
        metadata = {k.lower(): v for k, v in (context.invocation_metadata() or ())}
        header = metadata.get("authorization", "")
        if header:
            scheme, _, token = str(header).partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise Refused(
                    grpc.StatusCode.UNAUTHENTICATED,
                    "unauthenticated",
                    "the authorization header must be 'Bearer <token>'",
                )
            user = self.credentials.user_by_token(token.strip())
            if user is None:
                raise Refused(
                    grpc.StatusCode.UNAUTHENTICATED,
                    "unauthenticated",
                    "the bearer token is not known",
                )
            return Principal("user", user.name, user.roles, user.scope)
        ident = peer_identity(context)
        if ident is not None and self.credentials.is_revoked(ident.serial):
            raise Refused(
                grpc.StatusCode.UNAUTHENTICATED,
                "unauthenticated",
                f"the certificate of {ident.kind}:{ident.name} was revoked",
            )
        if ident is not None and ident.kind == "user":
            user = self.credentials.user(ident.name)
            if user is None:
                raise Refused(
                    grpc.StatusCode.UNAUTHENTICATED,
                    "unauthenticated",
                    f"the certificate names user {ident.name}, who is not a user of this hub",
                )
            return Principal("user", user.name, user.roles, user.scope)
        if ident is not None:
            return Principal(ident.kind, ident.name)
        raise Refused(
            grpc.StatusCode.UNAUTHENTICATED,
            "unauthenticated",
            "no credentials: present a user certificate or a bearer token",
        )

    def authorize(self, principal: Principal, method: str, rule: Rule | None, request: Any) -> Any:
        if rule is None:
            raise Refused(
                grpc.StatusCode.PERMISSION_DENIED,
                "permission",
                f"{method} is not open to anyone (not in the permission table)",
            )
        if rule.permission != ANY and not principal.may(rule.permission):
            roles = ", ".join(principal.roles) or "no role"
            raise Refused(
                grpc.StatusCode.PERMISSION_DENIED,
                "permission",
                f"{principal.actor} ({roles}) may not call {method} (needs {rule.permission})",
            )
        if principal.scope and rule.scoped:
            hook = self.scopes.get(method)
            if hook is None:
                raise Refused(
                    grpc.StatusCode.PERMISSION_DENIED,
                    "scope",
                    f"{method} is not available to a user scoped to {principal.scope}",
                )
            return hook(request, principal)
        return request

    # --- wrappers

    def _audit(
        self, principal: Principal | None, method: str, rule: Rule | None, outcome: str,
        request: Any, detail: str = "",
    ) -> None:  # fmt: skip
        digest = ""
        if request is not None and hasattr(request, "SerializeToString"):
            digest = hashlib.sha256(request.SerializeToString()).hexdigest()
        self.audit(
            AuditEntry(
                principal.actor if principal else "anonymous",
                (rule.action if rule and rule.action else "call"),
                method,
                outcome,
                role=",".join(principal.roles) if principal else "",
                scope=principal.scope if principal else "",
                digest=digest,
                detail=detail,
            )
        )

    async def _admit(
        self, method: str, rule: Rule | None, request: Any, context: Any
    ) -> tuple[Principal, Any]:
        principal: Principal | None = None
        try:
            principal = self.authenticate(context, method)
            request = self.authorize(principal, method, rule, request)
        except Refused as refused:
            self.denied(refused.reason)
            outcome = "unauthenticated" if refused.reason == "unauthenticated" else "denied"
            self._audit(principal, method, rule, outcome, request, refused.message)
            log.warning("refused %s: %s", method, refused.message)
            await context.abort(refused.code, refused.message)
            raise  # not reached: abort raises
        return principal, request

    def _outcome(self, context: Any, err: BaseException) -> str:
        code = getattr(context, "code", lambda: None)()
        if isinstance(code, grpc.StatusCode):
            return f"failed:{code.name}"
        return f"failed:{type(err).__name__}"

    def _unary(
        self, method: str, rule: Rule | None, inner: Callable[..., Awaitable[Any]]
    ) -> Callable[[Any, Any], Awaitable[Any]]:
        async def behavior(request: Any, context: Any) -> Any:
            principal, request = await self._admit(method, rule, request, context)
            token = CURRENT.set(principal)
            try:
                response = await inner(request, context)
            except BaseException as err:
                if rule is not None and rule.action:
                    self._audit(principal, method, rule, self._outcome(context, err), request)
                raise
            finally:
                CURRENT.reset(token)
            if rule is not None and rule.action:
                self._audit(principal, method, rule, "ok", request)
            narrow = self.filters.get(method)
            return narrow(response, principal) if narrow and principal.scope else response

        return behavior

    def _stream(
        self, method: str, rule: Rule | None, inner: Callable[..., Any]
    ) -> Callable[[Any, Any], AsyncIterator[Any]]:
        async def behavior(request: Any, context: Any) -> AsyncIterator[Any]:
            principal, request = await self._admit(method, rule, request, context)
            # Set for the rest of this RPC's task; not reset, since a stream may be closed
            # from another context (a cancelled call), where a reset is an error.
            CURRENT.set(principal)
            narrow = self.filters.get(method) if principal.scope else None
            try:
                result = inner(request, context)
                if inspect.isasyncgen(result):
                    async for item in result:
                        yield narrow(item, principal) if narrow else item
                else:
                    await result
            except (GeneratorExit, asyncio.CancelledError):
                raise  # the caller went away: not a failure of the call
            except Exception as err:
                if rule is not None and rule.action:
                    self._audit(principal, method, rule, self._outcome(context, err), request)
                raise
            if rule is not None and rule.action:
                self._audit(principal, method, rule, "ok", request)

        return behavior

    def _refuse_streaming(self, method: str) -> Callable[[Any, Any], Awaitable[None]]:
        async def behavior(_requests: Any, context: Any) -> None:
            self.denied("permission")
            self._audit(None, method, None, "denied", None, "client-streaming method not allowed")
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, f"{method} is not allowed")

        return behavior
