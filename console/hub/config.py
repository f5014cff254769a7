"""How the hub runs: every setting of `tongchou hub`, as one frozen value."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from console.executor.config import ExecutorConfig
from console.hub.control.replicas import ReplicaSettings
from console.hub.fleet.hygiene import Hygiene
from console.hub.rollup.upstream import UpstreamSettings
from console.model.planning import Platform
from console.model.workload import PlacementPolicy
from console.security.tls import TlsFiles


@dataclass(frozen=True, slots=True)
class HubConfig:
    """How the hub runs. Durations in seconds."""

    listen: str = "0.0.0.0:7470"
    metrics_listen: str = "127.0.0.1:9470"  # loopback unless served over TLS
    metrics_tls: tuple[Path, Path, Path | None] | None = None  # cert, key, client CA
    health_listen: str = ""  # plain HTTP /healthz for probes without a certificate
    report_interval: float = 10.0
    max_report_rate: float = 2000.0
    lost_after: float = 120.0
    flush_interval: float = 1.0
    heartbeat_every: float = 30.0
    sweep_interval: float = 1.0
    max_report_bytes: int = 64 * 1024
    shutdown_grace: float = 5.0
    ready_file: Path | None = None
    retry_interval: float = 2.0
    policies: tuple[PlacementPolicy, ...] = ()  # the user's: the built-in guardrails are added
    guardrails_off: bool = False  # --unsafe-no-guardrails: warned at start and audited
    tls: TlsFiles | None = None  # None: plaintext, which the hub logs as a warning
    trust_simulators: bool = False  # a "simulator" certificate may report for any node
    audit_key: Path | None = None  # default: <store>.audit-key, created on first start
    audit_witness: Path | None = None  # default: <audit key>.witness
    enrol_delivery: Path | None = None  # where users' one-time enrolment codes are written
    audit_retention_months: int = 6
    audit_check_interval: float = 300.0  # verify the chain (and prune) this often
    ca_dir: Path | None = None  # the CA that signs join and renewal requests
    token_listen: str = ""  # TLS without client certificates: join and bearer tokens
    node_cert_days: float = 90.0
    max_stream_rate: float = 25.0  # reports/s one agent stream may send (burst twice that)
    # With a PostgreSQL store: this replica's name, election and reading of the others.
    replicas: ReplicaSettings = field(default_factory=ReplicaSettings)
    hygiene: Hygiene = field(default_factory=Hygiene)  # connection limits (docs/hub.md)
    # The Kubernetes executor and failover; None (or no cluster with a kubeContext): off.
    executor: ExecutorConfig | None = None
    # The national roll-up (docs/hub.md): a province hub's reporting upwards (--upstream), and
    # a national hub's service for them (--national; summaries older than national_stale_after
    # are shown stale). `platforms` is the shared-platform catalog the summaries name.
    upstream: UpstreamSettings | None = None
    national: bool = False
    national_stale_after: float = 180.0
    platforms: tuple[Platform, ...] = ()
