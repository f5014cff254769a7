"""A seeded fleet for the situation view: levels with totals, clusters of MLPS 2 and 3 (one
4), domestic and Intel chips, workloads placed at, above and below their level, pending
replicas with the scheduler's reasons, two failovers, and shared platforms' instances with
their tenants (one on a site below the platform's level)."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from tests.tui.fake_hub import FakeHub, snapshot
from tongchou import levels
from tongchou.v1 import inventory_pb2, workloads_pb2

AT = 1_796_000_000  # a fixed time, so snapshots stay the same


def fleet() -> inventory_pb2.InventoryDelta:
    delta = snapshot(24)
    for i, n in enumerate(delta.upserted):
        if n.identity.division == "440305":  # 南山区: an MLPS-2 county cluster on Intel
            n.identity.mlps_level = 2
            n.identity.arch, n.identity.chip = "x86_64", "intel-xeon-6330"
        if i == 0:
            n.identity.mlps_level = 4
            n.identity.cluster = "cluster-440000-l4"
    totals = {"province": (6, 0, 0, 384.0, 96.0), "county": (16, 1, 1, 1152.0, 201.6)}
    for name, (ready, stale, lost, cores, used) in totals.items():
        row = delta.summary.levels.add(level=levels.to_wire(name))
        t = row.totals
        t.nodes_ready, t.nodes_stale, t.nodes_lost = ready, stale, lost
        t.cpu_cores, t.cpu_used_cores = cores, used
    for i, (cluster, message) in enumerate(
        (
            ("cluster-440106", "unavailable for 3m: replicas moved to cluster-440000"),
            ("cluster-441422", "API unreachable: replicas moved to cluster-440000"),
        )
    ):
        event = inventory_pb2.Event(kind="failover", subject=cluster, message=message)
        event.at.CopyFrom(Timestamp(seconds=AT + 600 * i))
        delta.events.append(event)
    return delta


def workloads() -> list[workloads_pb2.WorkloadStatus]:
    def placed(*pairs: tuple[str, int]) -> list[workloads_pb2.ClusterReplicas]:
        return [workloads_pb2.ClusterReplicas(cluster=c, replicas=n) for c, n in pairs]

    return [
        workloads_pb2.WorkloadStatus(
            name="e-seal", owner="440000", replicas=4, mlps_level=3,
            placed=placed(("cluster-440106", 2), ("cluster-441422", 2)),
        ),
        workloads_pb2.WorkloadStatus(
            name="identity", owner="440000", replicas=3, mlps_level=3,
            placed=placed(("cluster-440106", 2), ("cluster-440305", 1)),
        ),
        workloads_pb2.WorkloadStatus(
            name="portal", owner="440305", replicas=2, mlps_level=2,
            placed=placed(("cluster-440305", 2)),
        ),
        workloads_pb2.WorkloadStatus(
            name="video", owner="440000", replicas=6, mlps_level=4, pending=6,
            reason="0/5 clusters: 4 MLPS level below the workload's, 1 no room for a replica",
        ),
        workloads_pb2.WorkloadStatus(
            name="data-exchange", owner="440000", replicas=4, mlps_level=3, pending=1,
            placed=placed(("cluster-440106", 3)),
            reason="1/5 clusters: 4 no room for a replica",
        ),
    ]  # fmt: skip


def platforms() -> list[inventory_pb2.PlatformInstance]:
    def instance(
        platform: str, name: str, level: int, site: str, has: int, *tenants: str
    ) -> inventory_pb2.PlatformInstance:
        return inventory_pb2.PlatformInstance(
            platform=platform, display_name=name, mlps_level=level, site=site,
            division=site.removeprefix("site-"), site_mlps_level=has, tenants=tenants,
        )  # fmt: skip

    return [
        instance("e-seal", "电子印章", 3, "site-440000", 3, "440000", "440100", "440300"),
        instance("unified-identity", "统一身份认证", 3, "site-440000", 3, "440000", "440106"),
        instance("unified-identity", "统一身份认证", 3, "site-440305", 2, "440305", "440304"),
        instance("video", "视频会议", 2, "site-440106", 3, "440106", "440104", "440111"),
    ]


def hub() -> FakeHub:
    out = FakeHub([fleet()])
    out.statuses = workloads()
    out.platforms = platforms()
    return out
