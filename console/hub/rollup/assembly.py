"""The roll-up's parts in a hub: the national service (with --national) and the reporter to
the national hub (with --upstream), built from the hub's settings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from console.hub.config import HubConfig
from console.hub.fleet.inventory import Inventory
from console.hub.metrics import HubMetrics
from console.hub.rollup.national import National, NationalMetrics
from console.hub.rollup.summary import Catalog
from console.hub.rollup.upstream import UpstreamMetrics, UpstreamReporter, UpstreamSettings
from console.model.fleet import Fleet
from console.model.planning import Platform
from console.security.pki import Identity
from console.store.audit import AuditEntry
from console.store.rollup import RollupStore


class Rollup:
    """What of the roll-up this hub runs: none, either, or both (a hub may be national and
    report to a hub above it)."""

    def __init__(
        self,
        *,
        national: bool,
        stale_after: float,
        upstream: UpstreamSettings | None,
        platforms: tuple[Platform, ...],
        store_path: Path | None,
        inventory: Inventory,
        fleet: Callable[[], Fleet],
        registry: CollectorRegistry,
    ) -> None:
        self.national: National | None = None
        self._store: RollupStore | None = None
        if national:
            self._store = RollupStore(store_path) if store_path is not None else None
            self.national = National(
                self._store,
                NationalMetrics(registry),
                stale_after=stale_after,
                report_interval=upstream.interval if upstream else 60.0,
            )
        self.reporter: UpstreamReporter | None = None
        if upstream is not None:
            by_name = {p.name: p for p in platforms}

            def catalog() -> Catalog:
                f = fleet()
                sites = {s.name: s.division for s in f.sites.values()}
                return Catalog(f.divisions, sites, by_name)

            self.reporter = UpstreamReporter(
                upstream, inventory, catalog, UpstreamMetrics(registry)
            )

    @classmethod
    def of(
        cls,
        config: HubConfig,
        store_path: Path | None,
        inventory: Inventory,
        fleet: Callable[[], Fleet],
        metrics: HubMetrics,
    ) -> Rollup:
        """The roll-up of a hub with `config` (its store's SQLite file, if it has one)."""
        return cls(
            national=config.national,
            stale_after=config.national_stale_after,
            upstream=config.upstream,
            platforms=config.platforms,
            store_path=store_path,
            inventory=inventory,
            fleet=fleet,
            registry=metrics.registry,
        )

    def guard(
        self, revoked: Callable[[Identity], bool], audit: Callable[[AuditEntry], None]
    ) -> None:
        """With mutual TLS: the national service refuses (and audits) revoked certificates."""
        if self.national is not None:
            self.national.revoked, self.national.audit = revoked, audit

    async def start(self) -> None:
        if self.national is not None:
            await self.national.load()

    def tasks(self, stop: asyncio.Event) -> dict[str, Coroutine[Any, Any, None]]:
        if self.reporter is None:
            return {}
        return {"hub-upstream": self.reporter.run(stop)}

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
