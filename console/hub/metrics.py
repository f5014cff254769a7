"""The hub's own Prometheus metrics: ingest, store, scheduling and security counters, gauges
and histograms, in a registry of their own (scrape-time collectors are in `collectors.py`)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from tongchou import __version__

REJECTION_REASONS = (
    "malformed",
    "oversize",
    "missing_field",
    "invalid_label",
    "not_finite",
    "negative_value",
    "absurd_value",
    "sequence_backwards",
    "identity_changed",
    "peer_streams",
    "no_first_report",
    "node_rate_limited",
    "store_unavailable",
)
"""Why a report was rejected: the `reason` label of `tongchou_hub_reports_rejected`."""

DENIAL_REASONS = (
    "node_mismatch",
    "not_a_node",
    "no_certificate",
    "unauthenticated",
    "permission",
    "revoked",
    "scope",
    "claim_mismatch",
    "not_a_relay",
    "relay_site",
)
"""Why a call was refused: the `reason` label of `tongchou_hub_denied`."""

INGEST_BUCKETS = (
    *(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1),
    *(0.25, 0.5, 1.0, 2.5),
)


class HubMetrics:
    """Counters, gauges and histograms of the hub, in a registry of their own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = r = registry or CollectorRegistry()
        self.reports = Counter(
            "tongchou_hub_reports_received", "Agent reports received.", registry=r
        )
        self.rejected = Counter(
            "tongchou_hub_reports_rejected",
            "Agent reports rejected, by reason.",
            ["reason"],
            registry=r,
        )
        self.superseded = Counter(
            "tongchou_hub_streams_superseded",
            "Agent streams closed because the same node connected on a newer stream.",
            registry=r,
        )
        self.ingest_seconds = Histogram(
            "tongchou_hub_ingest_duration_seconds",
            "Time from receiving a report to having its answer ready (a registration waits for"
            " its store write).",
            buckets=INGEST_BUCKETS,
            registry=r,
        )
        self.streams = Gauge("tongchou_hub_agent_streams", "Open agent streams.", registry=r)
        self.interval = Gauge(
            "tongchou_hub_report_interval_seconds",
            "The report interval the hub asks of agents.",
            registry=r,
        )
        self.flush_seconds = Histogram(
            "tongchou_hub_store_flush_duration_seconds",
            "Time to write one batch to the store.",
            registry=r,
        )
        self.flushed_nodes = Counter(
            "tongchou_hub_store_node_writes", "Node rows written to the store.", registry=r
        )
        self.schedule_seconds = Histogram(
            "tongchou_hub_scheduling_duration_seconds",
            "Time of one scheduling pass over the pending workloads.",
            registry=r,
        )
        self.store_errors = Counter(
            "tongchou_hub_store_errors", "Failed store writes (retried).", registry=r
        )
        self.denied = Counter(
            "tongchou_hub_denied",
            "Calls refused for their identity or permissions, by reason.",
            ["reason"],
            registry=r,
        )
        self._security(r)
        self._limits(r)

    def _limits(self, r: CollectorRegistry) -> None:
        """What the connection limits and the node claims count."""
        self.max_connections = Gauge(
            "tongchou_hub_max_connections",
            "Connections the hub's port takes at most (beyond them, new ones are closed);"
            " compare process_open_fds.",
            registry=r,
        )
        self.capacity_jumps = Counter(
            "tongchou_hub_capacity_jumps",
            "Node reports whose cpu or memory jumped beyond the threshold (docs/hub.md).",
            registry=r,
        )

    def _security(self, r: CollectorRegistry) -> None:
        """The audit and failover metrics, the build info, and every known label value."""
        for reason in REJECTION_REASONS:
            self.rejected.labels(reason)
        for reason in DENIAL_REASONS:
            self.denied.labels(reason)
        self.audit_chain_ok = Gauge(
            "tongchou_audit_chain_ok",
            "1 when the audit log's hash chain verified at the last check, else 0.",
            registry=r,
        )
        self.audit_chain_ok.set(1)
        self.leader = Gauge(
            "tongchou_hub_leader",
            "1 while this hub runs the leader's duties (scheduling, reconcile, failover, the"
            " sweep of nodes no replica streams): a single hub always, one of several replicas.",
            registry=r,
        )
        self.leader.set(1)
        self.leader_term = Gauge(
            "tongchou_hub_leader_term",
            "The election term this hub replica last led in (0: a single hub, or never led).",
            registry=r,
        )
        self.failovers = Counter(
            "tongchou_failovers",
            "Times a cluster was marked unavailable and its replicas placed elsewhere.",
            ["cluster"],
            registry=r,
        )
        Gauge(
            "tongchou_hub_build_info",
            "Always 1; labels name the hub's version.",
            ["version"],
            registry=r,
        ).labels(__version__).set(1)


class ExecutorMetrics:
    """The executor's own metrics: API errors, refused and foreign objects, privilege drift."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.api_errors = Counter(
            "tongchou_executor_api_errors",
            "Error answers from a cluster's Kubernetes API, by HTTP status (0: unreachable).",
            ["cluster", "code"],
            registry=registry,
        )
        self.refused = Gauge(
            "tongchou_executor_refused_objects",
            "Objects the cluster refused (admission, invalid, not Tongchou's) at the last pass.",
            ["cluster"],
            registry=registry,
        )
        self.foreign = Gauge(
            "tongchou_executor_foreign_objects",
            "Tongchou objects of another hub identity left alone at the last pass (--adopt).",
            ["cluster"],
            registry=registry,
        )
        self.privilege = Counter(
            "tongchou_executor_privilege_drift",
            "Managed objects found with privilege added by hand (then replaced).",
            ["cluster"],
            registry=registry,
        )
