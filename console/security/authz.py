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

from console.security.binding import revocation_check
from console.security.objects import object_of
from console.security.pki import Identity
from console.security.roles import Principal
from console.security.tls import peer_identity
from console.store.audit import AuditEntry
from console.store.credentials import Credentials
from console.store.offloop import STORE_SECONDS, StoreUnavailable, off_loop

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
    "/tongchou.v1.InventoryService/ListPlatformInstances": Rule("inventory.read", scoped=True),
    "/tongchou.v1.PolicyService/ListPolicies": Rule("workload.read", scoped=True),
    "/tongchou.v1.PolicyService/CheckPolicies": Rule("workload.read", scoped=True),
    "/tongchou.v1.WorkloadService/SubmitWorkload": Rule(
        "workload.write", "workload.submit", scoped=True
    ),
    "/tongchou.v1.WorkloadService/DeleteWorkload": Rule(
        "workload.write", "workload.delete", scoped=True
    ),
    "/tongchou.v1.WorkloadService/ScaleWorkload": Rule(
        "workload.write", "workload.scale", scoped=True
    ),
    "/tongchou.v1.WorkloadService/GetWorkloadDocument": Rule("workload.read", scoped=True),
    "/tongchou.v1.WorkloadService/ListWorkloads": Rule("workload.read", scoped=True),
    "/tongchou.v1.WorkloadService/GetWorkload": Rule("workload.read", scoped=True),
    "/tongchou.v1.WorkloadService/ExplainWorkload": Rule("workload.read", scoped=True),
    "/tongchou.v1.PlanService/RunPlan": Rule("plan.run", "plan.run", scoped=True),
    # A plan covers the demands of every division: not for a scoped user (no scope hook).
    "/tongchou.v1.PlanService/ListPlans": Rule("plan.run", scoped=True),
    "/tongchou.v1.PlanService/GetPlan": Rule("plan.run", scoped=True),
    "/tongchou.v1.PlanService/SubmitPlan": Rule("plan.submit", "plan.submit", scoped=True),
    "/tongchou.v1.AuditService/ExportAudit": Rule("audit.read", "audit.export"),
    "/tongchou.v1.AuditService/VerifyAudit": Rule("audit.read"),
    "/tongchou.v1.UserService/WhoAmI": Rule(ANY),
    "/tongchou.v1.UserService/ListUsers": Rule("user.read"),
    "/tongchou.v1.UserService/CreateUser": Rule("account.write", "user.create"),
    "/tongchou.v1.UserService/DeleteUser": Rule("account.write", "user.delete"),
    "/tongchou.v1.UserService/GrantRoles": Rule("role.write", "user.grant"),
    "/tongchou.v1.UserService/ListChanges": Rule("user.read"),
    "/tongchou.v1.UserService/ApproveChange": Rule("change.approve", "change.approve"),
    "/tongchou.v1.UserService/Enrol": Rule(PUBLIC),  # the one-time code authenticates
    "/tongchou.v1.AgentService/Connect": Rule(NODE),
    "/tongchou.v1.RelayService/Forward": Rule(NODE),  # the relay's certificate: relay/ingest.py
    # A province hub's certificate (kind province): the service checks it names the province.
    "/tongchou.v1.RollupService/Report": Rule(NODE),
    # Every province's summary: not for a user scoped to one division (no scope hook).
    "/tongchou.v1.RollupService/ListProvinces": Rule("inventory.read", scoped=True),
    "/tongchou.v1.RollupService/GetProvince": Rule("inventory.read", scoped=True),
    "/tongchou.v1.JoinService/Join": Rule(PUBLIC),
    "/tongchou.v1.JoinService/Renew": Rule(NODE),
    "/grpc.health.v1.Health/Check": Rule(PUBLIC),
    "/grpc.health.v1.Health/Watch": Rule(PUBLIC),
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": Rule(ANY),
}

# Handler answers that are refusals (audited for every method), and codes no handler gives on
# purpose (audited with the error).
_REFUSALS = frozenset({grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED})
_UNEXPECTED = frozenset({grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL})

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
# caller's scope), or an awaitable of it, or raises Refused. A filter narrows a unary response.
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
        self.revoked = revocation_check(credentials)
        self.filters: dict[str, ResponseFilter] = {}
        self.store_seconds = STORE_SECONDS  # how long a call waits for the credentials

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

    async def authenticate(self, context: Any) -> Principal:
        """The caller: the call's credentials are read here, the store on a worker thread."""
        metadata = {k.lower(): v for k, v in (context.invocation_metadata() or ())}
        header = str(metadata.get("authorization", ""))
        ident = peer_identity(context)
        seconds = self.store_seconds
        return await off_loop(self.identify, header, ident, seconds=seconds, passing=(Refused,))

    def identify(self, header: str, ident: Identity | None) -> Principal:
        """The principal of a bearer token or a client certificate (reads the store)."""
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
        if ident is not None and self.revoked(ident):
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
            issued = self.credentials.certificate(ident.serial)
            if issued is None or issued.kind != "user" or issued.owner != user.id:
                # a certificate belongs to the account it was issued for, not to its name
                raise Refused(
                    grpc.StatusCode.UNAUTHENTICATED,
                    "unauthenticated",
                    f"certificate {ident.serial:x} was not issued to the current account of "
                    f"user {ident.name}",
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
        self,
        principal: Principal | None,
        method: str,
        rule: Rule | None,
        outcome: str,
        request: Any,
        detail: str = "",
        *,
        context: Any = None,
        response: Any = None,
    ) -> None:
        digest = ""
        if request is not None and hasattr(request, "SerializeToString"):
            digest = hashlib.sha256(request.SerializeToString()).hexdigest()
        target = object_of(method, request, response)
        if target != method:
            detail = f"{method}; {detail}".rstrip("; ")
        self.audit(
            AuditEntry(
                principal.actor if principal else "anonymous",
                (rule.action if rule and rule.action else "call"),
                target,
                outcome,
                role=",".join(principal.roles) if principal else "",
                scope=principal.scope if principal else "",
                digest=digest,
                detail=detail,
                peer=str(context.peer()) if context is not None else "",
            )
        )

    async def _admit(
        self, method: str, rule: Rule | None, request: Any, context: Any
    ) -> tuple[Principal, Any]:
        principal: Principal | None = None
        try:
            principal = await self.authenticate(context)
            request = self.authorize(principal, method, rule, request)
            if inspect.isawaitable(request):  # a hook that reads documents off the loop
                request = await request
        except StoreUnavailable as err:
            log.warning("could not authenticate a %s call: %s", method, err)
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, f"the hub's user store is unavailable: {err}"
            )
            raise  # not reached: abort raises
        except Refused as refused:
            self.denied(refused.reason)
            outcome = "unauthenticated" if refused.reason == "unauthenticated" else "denied"
            self._audit(principal, method, rule, outcome, request, refused.message, context=context)
            log.warning("refused %s: %s", method, refused.message)
            await context.abort(refused.code, refused.message)
            raise  # not reached: abort raises
        return principal, request

    def _failure(
        self,
        principal: Principal,
        method: str,
        rule: Rule | None,
        request: Any,
        context: Any,
        err: BaseException,
    ) -> None:
        """Audits a call that did not succeed: every mutation; every call cancelled, refused
        by its handler, or ended by an unexpected error (UNKNOWN)."""
        if isinstance(err, asyncio.CancelledError | GeneratorExit):
            if rule is not None and rule.action:
                self._audit(principal, method, rule, "cancelled", request, context=context)
            return
        code = getattr(context, "code", lambda: None)()
        if not isinstance(code, grpc.StatusCode) or code in _UNEXPECTED:
            name = code.name if isinstance(code, grpc.StatusCode) else "UNKNOWN"
            outcome = f"failed:{name}"
            detail = f"{type(err).__name__}: {err}"[:500]
            log.error("%s failed unexpectedly: %s", method, detail)
            self._audit(principal, method, rule, outcome, request, detail, context=context)
        elif (rule is not None and rule.action) or code in _REFUSALS:
            self._audit(principal, method, rule, f"failed:{code.name}", request, context=context)

    def _unary(
        self, method: str, rule: Rule | None, inner: Callable[..., Awaitable[Any]]
    ) -> Callable[[Any, Any], Awaitable[Any]]:
        async def behavior(request: Any, context: Any) -> Any:
            principal, request = await self._admit(method, rule, request, context)
            token = CURRENT.set(principal)
            try:
                response = await inner(request, context)
            except BaseException as err:
                self._failure(principal, method, rule, request, context, err)
                raise
            finally:
                CURRENT.reset(token)
            if rule is not None and rule.action:
                self._audit(
                    principal, method, rule, "ok", request, context=context, response=response
                )
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
            except BaseException as err:
                # the caller going away is not a failure, but a cancelled action is recorded
                self._failure(principal, method, rule, request, context, err)
                raise
            if rule is not None and rule.action:
                self._audit(principal, method, rule, "ok", request, context=context)

        return behavior

    def _refuse_streaming(self, method: str) -> Callable[[Any, Any], Awaitable[None]]:
        async def behavior(_requests: Any, context: Any) -> None:
            self.denied("permission")
            self._audit(
                None,
                method,
                None,
                "denied",
                None,
                "client-streaming method not allowed",
                context=context,
            )
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, f"{method} is not allowed")

        return behavior
