"""The one place that turns hub state into protobuf messages: nodes, events, totals, summaries,
workload status and explanations, policies, the catalog's divisions, sites, clusters and platform
instances, and the
answers to agents' and relays' streams."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from console.hub.control.clusters import ClusterView
from console.hub.control.workloads import Held, WorkloadRecord
from console.hub.fleet.acks import RECONNECT_DELAY, Refusal
from console.hub.fleet.inventory import Inventory, NodeEntry, Tally, Totals
from console.hub.fleet.pacing import Pacer
from console.model.fleet import Cluster, Division, Fleet, Site
from console.model.inventory import Event
from console.model.planning import Platform, PlatformInstance
from console.model.workload import PlacementPolicy
from console.planner.cli import render, to_json
from console.planner.milp import Progress
from console.planner.report import Plan
from console.planner.views import PlanViews
from console.scheduler import Placement, PolicyEffect
from tongchou import levels, states
from tongchou.v1 import (
    agent_pb2,
    common_pb2,
    inventory_pb2,
    plans_pb2,
    policies_pb2,
    relay_pb2,
    workloads_pb2,
)

EXAMPLES = 20
"""Clusters a policy removed, named per policy (the counts cover them all)."""


def _nanos(seconds: float) -> int:
    return int(seconds * 1e9)


# -- the answers to agents and relays ---------------------------------------------------


def _reconnect() -> agent_pb2.Command:
    command = agent_pb2.Command(kind=agent_pb2.Command.KIND_RECONNECT)
    command.delay.FromNanoseconds(_nanos(RECONNECT_DELAY))
    return command


@dataclass
class AgentAcks:
    """The serialized answers of AgentService.Connect and RelayService.Forward (`fleet.acks.Acks`).
    A report's answer is its own head and a tail cached per interval: the interval is the same
    for every report between two pacing adjustments."""

    _tails: dict[float, bytes] = field(default_factory=dict)

    def report(self, sequence: int, interval: float, *, draining: bool) -> bytes:
        tail = self._tails.get(interval)
        if tail is None:
            ack = agent_pb2.ReportAck(accepted=True)
            ack.report_interval.FromNanoseconds(round(interval * 1e9))
            tail = ack.SerializeToString()
            self._tails = {interval: tail}  # the previous interval's tail is not asked again
        head = agent_pb2.ReportAck(sequence=sequence, commands=[_reconnect()] if draining else [])
        return head.SerializeToString() + tail

    def relay(
        self,
        batch: int,
        accepted: int,
        refusals: Sequence[Refusal],
        interval: float,
        *,
        draining: bool,
    ) -> bytes:
        ack = relay_pb2.RelayAck(
            batch=batch,
            accepted=accepted,
            refusals=[
                relay_pb2.Refusal(node=r.node, code=r.code.value[0], message=r.message)
                for r in refusals
            ],
        )
        ack.report_interval.FromNanoseconds(round(interval * 1e9))
        if draining:
            ack.commands.append(_reconnect())
        return ack.SerializeToString()


# -- the fleet ---------------------------------------------------------------------------


def node_message(entry: NodeEntry) -> inventory_pb2.Node:
    report = entry.report
    node = inventory_pb2.Node(
        identity=report.identity,
        state=states.to_wire(entry.state),
        capacity=report.capacity,
        usage=report.usage,
        last_sequence=report.sequence,
        boot_time=report.boot_time,
        relay=entry.relay,
    )
    node.first_seen.FromNanoseconds(_nanos(entry.first_seen))
    node.last_seen.FromNanoseconds(_nanos(entry.last_seen))
    node.report_interval.FromNanoseconds(_nanos(entry.interval))
    return node


def event_message(event: Event) -> inventory_pb2.Event:
    out = inventory_pb2.Event(kind=event.kind, subject=event.node, message=event.message)
    out.at.FromNanoseconds(_nanos(event.at))
    return out


def totals_message(t: Totals) -> inventory_pb2.FleetTotals:
    return inventory_pb2.FleetTotals(
        nodes_ready=t.ready,
        nodes_stale=t.stale,
        nodes_lost=t.lost,
        cpu_cores=t.cpu_cores,
        cpu_used_cores=t.cpu_used_cores,
        memory_bytes=t.memory_bytes,
        memory_used_bytes=t.memory_used_bytes,
    )


def summary_message(
    tally: Tally, reports_per_second: float, report_interval_ns: int
) -> inventory_pb2.FleetSummary:
    """Totals by level with the counts of divisions, sites and clusters (whole fleet or scope)."""
    out = inventory_pb2.FleetSummary(
        totals=totals_message(tally.total),
        divisions=len(tally.divisions),
        sites=len(tally.sites),
        clusters=len(tally.clusters),
        reports_per_second=reports_per_second,
    )
    for level in sorted(tally.levels):
        wire = common_pb2.Level.ValueType(level)
        out.levels.append(
            inventory_pb2.LevelTotals(level=wire, totals=totals_message(tally.levels[level]))
        )
    out.report_interval.FromNanoseconds(report_interval_ns)
    return out


def fleet_summary(
    inventory: Inventory, documents: Fleet, pacer: Pacer
) -> inventory_pb2.FleetSummary:
    """The whole fleet's summary: what nodes report, and the declared divisions, sites and
    clusters."""
    tally = inventory.tally()
    tally.divisions.update(documents.divisions)
    tally.sites.update(documents.sites)
    tally.clusters.update(documents.clusters)
    return summary_message(tally, pacer.rate(time.time()), _nanos(pacer.interval))


def scoped_summary(
    inventory: Inventory, scope: str, whole: inventory_pb2.FleetSummary
) -> inventory_pb2.FleetSummary:
    """The summary a caller scoped to a division sees: its subtree's nodes only."""
    return summary_message(
        inventory.tally(scope), whole.reports_per_second, whole.report_interval.ToNanoseconds()
    )


# -- the catalog -------------------------------------------------------------------------


def allocation_message(held: Held, archs: set[str]) -> inventory_pb2.Allocation:
    return inventory_pb2.Allocation(
        cpu_allocated_cores=held.amount.cpu_milli / 1000,
        memory_allocated_bytes=held.amount.memory_bytes,
        replicas=held.replicas,
        archs=sorted(archs),
    )


def cluster_message(
    c: Cluster, site: Site, totals: Totals, held: Held, archs: set[str]
) -> inventory_pb2.Cluster:
    return inventory_pb2.Cluster(
        name=c.name,
        site=c.site,
        division=site.division,
        provider=site.provider,
        mlps_level=c.mlps_level,
        shared=c.shared,
        kube_context=c.kube_context or "",
        totals=totals_message(totals),
        allocation=allocation_message(held, archs),
    )


def site_message(
    s: Site, clusters: list[str], mlps_level: int, totals: Totals, held: Held, archs: set[str]
) -> inventory_pb2.Site:
    return inventory_pb2.Site(
        name=s.name,
        division=s.division,
        provider=s.provider,
        compute_hub=s.compute_hub or "",
        power_price_cny_per_kwh=s.power_price_cny_per_kwh,
        pue=s.pue,
        free_server_slots=s.free_server_slots,
        clusters=clusters,
        totals=totals_message(totals),
        allocation=allocation_message(held, archs),
        mlps_level=mlps_level,
    )


def division_message(
    d: Division, totals: Totals, sites: int, clusters: int
) -> inventory_pb2.Division:
    return inventory_pb2.Division(
        code=d.code,
        name=d.name,
        level=levels.to_wire(d.level),
        parent=d.parent or "",
        totals=totals_message(totals),
        sites=sites,
        clusters=clusters,
    )


def platform_instance_message(
    platform: Platform,
    instance: PlatformInstance,
    division: str,
    site_mlps_level: int,
    tenants: Sequence[str],
    elsewhere: int,
) -> inventory_pb2.PlatformInstance:
    return inventory_pb2.PlatformInstance(
        platform=platform.name,
        display_name=platform.display_name,
        mlps_level=platform.mlps_level,
        site=instance.site,
        division=division,
        site_mlps_level=site_mlps_level,
        tenants=tenants,
        tenants_elsewhere=elsewhere,
    )


# -- workloads and policies --------------------------------------------------------------


def status_message(
    record: WorkloadRecord, clusters: ClusterView | None = None
) -> workloads_pb2.WorkloadStatus:
    w = record.workload
    out = workloads_pb2.WorkloadStatus(
        name=w.name,
        owner=w.owner,
        replicas=w.replicas,
        pending=record.pending,
        reason=record.reason,
        summary=record.summary,
        generation=record.generation,
        priority=w.priority,
        mlps_level=w.mlps_level,
        placed=[
            workloads_pb2.ClusterReplicas(cluster=c, replicas=n)
            for c, n in sorted(record.placed.items())
        ],
    )
    if clusters is not None:
        for item in out.placed:
            ready = clusters.ready_of(item.cluster, w.name)
            if ready is not None:
                item.ready = ready
            item.health = clusters.health_of(item.cluster)
    out.submitted_at.FromNanoseconds(_nanos(record.submitted_at))
    if record.scheduled_at:
        out.scheduled_at.FromNanoseconds(_nanos(record.scheduled_at))
    return out


def explanation_message(record: WorkloadRecord, result: Placement) -> workloads_pb2.Explanation:
    out = workloads_pb2.Explanation(status=status_message(record), summary=result.summary)
    for v in result.verdicts or []:
        verdict = workloads_pb2.ClusterVerdict(
            cluster=v.cluster,
            site=v.site,
            removed_by=v.removed_by,
            reason=v.reason,
            fit=max(v.fit, 0),
            cap=max(v.cap, 0),
            score=v.score,
            replicas=v.replicas,
        )
        verdict.terms.update(v.terms)
        out.clusters.append(verdict)
    return out


def policies_message(
    policies: Sequence[PlacementPolicy],
    effects: Sequence[PolicyEffect],
    clusters: int,
    workloads: int,
) -> policies_pb2.ListPoliciesResponse:
    out = policies_pb2.ListPoliciesResponse(clusters=clusters, workloads=workloads)
    for policy, effect in zip(policies, effects, strict=True):
        out.policies.append(
            policies_pb2.Policy(
                name=policy.name,
                form=policy.form.value,
                match=policy.match,
                expression=policy.expression,
                weight=policy.weight,
                message=policy.message,
                origin=policy.origin,
                workloads_matched=effect.workloads_matched,
                clusters_removed=effect.removed_max,
                clusters_removed_mean=effect.removed_mean,
                removed_examples=effect.removed[:EXAMPLES],
            )
        )
    return out


# -- plans -------------------------------------------------------------------------------


def progress_message(p: Progress) -> plans_pb2.PlanEvent:
    return plans_pb2.PlanEvent(
        progress=plans_pb2.PlanProgress(
            elapsed_seconds=p.elapsed, best_cny=p.incumbent, bound_cny=p.bound, gap=p.gap
        )
    )


def plan_result_message(plan: Plan, views: PlanViews | None = None) -> plans_pb2.PlanResult:
    """A finished plan with its views (its id and time are set when the hub keeps it)."""
    views = views or PlanViews()
    return plans_pb2.PlanResult(
        resilience_json=views.resilience_json,
        resilience_table=views.resilience_table,
        showback_json=views.showback_json,
        showback_table=views.showback_table,
        workloads=sorted(views.workloads),
        unsubmittable=views.unsubmittable,
        json=json.dumps(to_json(plan), ensure_ascii=False),
        table=render(plan),
        total_cost_cny=round(plan.cost.total, 2),
        savings_cny=round(plan.savings, 2),
        demands=len(plan.decisions),
        unserved=sum(d.action in ("unserved", "infeasible") for d in plan.decisions),
    )
