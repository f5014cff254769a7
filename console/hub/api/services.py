"""The hub's gRPC services on a server: which servicers, health, reflection, and the token port."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from console.security.tls import TlsFiles
from tongchou.v1 import (
    agent_pb2,
    inventory_pb2,
    inventory_pb2_grpc,
    plans_pb2,
    plans_pb2_grpc,
    policies_pb2,
    policies_pb2_grpc,
    rollup_pb2,
    rollup_pb2_grpc,
    security_pb2,
    security_pb2_grpc,
    workloads_pb2,
    workloads_pb2_grpc,
)

log = logging.getLogger("tongchou.hub")

SERVICES = (
    "tongchou.v1.AgentService",
    "tongchou.v1.InventoryService",
    "tongchou.v1.WorkloadService",
    "tongchou.v1.PlanService",
    "tongchou.v1.PolicyService",
)
"""The services whose health the hub reports (and "" for the whole server)."""

OPTIONS = [
    ("grpc.max_receive_message_length", 4 * 1024 * 1024),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.so_reuseport", 0),
]

Add = Callable[[Any, grpc.aio.Server], None]

_ADD: dict[str, Add] = {
    "inventory": inventory_pb2_grpc.add_InventoryServiceServicer_to_server,
    "workloads": workloads_pb2_grpc.add_WorkloadServiceServicer_to_server,
    "plans": plans_pb2_grpc.add_PlanServiceServicer_to_server,
    "policies": policies_pb2_grpc.add_PolicyServiceServicer_to_server,
    "users": security_pb2_grpc.add_UserServiceServicer_to_server,
    "audit": security_pb2_grpc.add_AuditServiceServicer_to_server,
    "join": security_pb2_grpc.add_JoinServiceServicer_to_server,
    "rollup": rollup_pb2_grpc.add_RollupServiceServicer_to_server,
}


@dataclass(slots=True)
class Servicers:
    """The servicers the hub runs, by kind (users, audit and join only when on)."""

    inventory: object
    workloads: object
    plans: object
    policies: object
    users: object | None = None
    audit: object | None = None
    join: object | None = None
    rollup: object | None = None  # a national hub's RollupService (--national)
    generic: list[grpc.GenericRpcHandler] = field(default_factory=list)

    def add_to(self, server: grpc.aio.Server) -> None:
        server.add_generic_rpc_handlers(tuple(self.generic))
        for kind, add in _ADD.items():
            servicer = getattr(self, kind)
            if servicer is not None:
                add(servicer, server)


def reflection_names() -> tuple[str, ...]:
    return (
        agent_pb2.DESCRIPTOR.services_by_name["AgentService"].full_name,
        inventory_pb2.DESCRIPTOR.services_by_name["InventoryService"].full_name,
        workloads_pb2.DESCRIPTOR.services_by_name["WorkloadService"].full_name,
        plans_pb2.DESCRIPTOR.services_by_name["PlanService"].full_name,
        policies_pb2.DESCRIPTOR.services_by_name["PolicyService"].full_name,
        *(s.full_name for s in security_pb2.DESCRIPTOR.services_by_name.values()),
        rollup_pb2.DESCRIPTOR.services_by_name["RollupService"].full_name,
        health.SERVICE_NAME,
        reflection.SERVICE_NAME,
    )


def main_server(
    servicers: Servicers,
    health_servicer: health.aio.HealthServicer,
    interceptors: list[grpc.aio.ServerInterceptor],
    options: Sequence[tuple[str, int]] = (),
) -> grpc.aio.Server:
    """The main port's server: every service, health and reflection (not yet bound);
    `options` add to OPTIONS (the connection limits)."""
    server = grpc.aio.server(interceptors=interceptors, options=[*OPTIONS, *options])
    servicers.add_to(server)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(reflection_names(), server)
    return server


async def set_health(servicer: health.aio.HealthServicer, serving: bool) -> None:
    answer = health_pb2.HealthCheckResponse
    status = answer.SERVING if serving else answer.NOT_SERVING
    for name in ("", *SERVICES):
        await servicer.set(name, status)


async def token_server(
    listen: str,
    tls: TlsFiles | None,
    servicers: Servicers,
    interceptors: list[grpc.aio.ServerInterceptor],
) -> tuple[grpc.aio.Server, int]:
    """The token port: server TLS only, for callers without a certificate — nodes joining
    with a join token, console users with a bearer token. The same guard applies."""
    if tls is None:
        raise RuntimeError("the token port needs TLS (--tls-*)")
    server = grpc.aio.server(
        interceptors=interceptors, options=[("grpc.max_receive_message_length", 4 << 20)]
    )
    without_agents = Servicers(
        servicers.inventory,
        servicers.workloads,
        servicers.plans,
        servicers.policies,
        servicers.users,
        servicers.audit,
        servicers.join,
    )
    without_agents.add_to(server)
    credentials = grpc.ssl_server_credentials([(tls.key, tls.cert)], require_client_auth=False)
    port = server.add_secure_port(listen, credentials)
    if port == 0:
        raise OSError(f"cannot listen on {listen}")
    await server.start()
    log.info("token port (join tokens, bearer tokens) on %s", port)
    return server, port
