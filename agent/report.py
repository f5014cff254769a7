"""Builds the NodeReport the agent sends, from its settings and its collector."""

from __future__ import annotations

import os
import time
from typing import Protocol

from agent.config import AgentConfig
from tongchou import __version__, levels
from tongchou.v1 import agent_pb2, common_pb2


class HostLike(Protocol):
    @property
    def arch(self) -> str: ...
    @property
    def chip(self) -> str: ...
    @property
    def cpu_model(self) -> str: ...
    @property
    def os(self) -> common_pb2.OsRelease: ...


class Source(Protocol):
    """What the report builder needs of a collector."""

    def host(self) -> HostLike: ...
    def capacity(self) -> common_pb2.Capacity: ...
    def usage(self) -> common_pb2.Usage: ...
    def boot_time(self) -> float: ...


def identity(config: AgentConfig, host: HostLike) -> common_pb2.NodeIdentity:
    """The node's identity: its settings plus what the host says of itself."""
    ident = common_pb2.NodeIdentity(
        node=config.node,
        division=config.division,
        level=levels.to_wire(config.level),
        site=config.site,
        cluster=config.cluster,
        provider=config.provider,
        mlps_level=config.mlps_level,
        arch=host.arch,
        chip=host.chip,
        cpu_model=host.cpu_model,
        agent_version=__version__,
    )
    ident.os.CopyFrom(host.os)
    ident.labels.update(config.labels)
    return ident


class ReportBuilder:
    """Numbers reports 1, 2, 3… within one run of the agent, under a random run id."""

    def __init__(self, config: AgentConfig, source: Source, *, run_id: str | None = None) -> None:
        self._source = source
        self._identity = identity(config, source.host())
        self._boot_time = source.boot_time()
        self._capacity = source.capacity()
        self._capacity_at = time.monotonic()
        self.run_id = run_id or os.urandom(16).hex()
        self.sequence = 0

    def next(self) -> agent_pb2.NodeReport:
        """The next report: fresh usage; capacity re-read at most once a minute."""
        now = time.monotonic()
        if now - self._capacity_at >= 60:
            self._capacity = self._source.capacity()
            self._capacity_at = now
        self.sequence += 1
        report = agent_pb2.NodeReport(run_id=self.run_id, sequence=self.sequence)
        report.identity.CopyFrom(self._identity)
        report.collected_at.GetCurrentTime()
        report.boot_time.FromNanoseconds(int(self._boot_time * 1e9))
        report.capacity.CopyFrom(self._capacity)
        report.usage.CopyFrom(self._source.usage())
        return report
