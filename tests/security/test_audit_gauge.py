"""The hub's `tongchou_audit_chain_ok` gauge follows the chain's state."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from console.hub.config import HubConfig
from console.hub.server import Hub
from console.store import SqliteStore
from console.store.audit import AuditEntry


async def test_gauge_drops_to_zero_when_a_record_is_edited(tmp_path: Path) -> None:
    store = tmp_path / "hub.db"
    config = HubConfig(listen="127.0.0.1:0", metrics_listen="", audit_check_interval=0.1)
    hub = Hub(config, SqliteStore(store))
    await hub.start()
    try:

        def gauge() -> float | None:
            return hub.metrics.registry.get_sample_value("tongchou_audit_chain_ok")

        assert gauge() == 1
        hub.record(AuditEntry("user:a", "workload.submit", "workload/w", "ok"))
        hub.record(AuditEntry("user:a", "workload.delete", "workload/w", "ok"))
        await asyncio.sleep(0.3)
        assert gauge() == 1
        with sqlite3.connect(store) as db:
            db.execute("UPDATE audit SET outcome = 'denied' WHERE seq = 1")
        for _ in range(100):
            if gauge() == 0:
                break
            await asyncio.sleep(0.05)
        assert gauge() == 0
    finally:
        await hub.shutdown()
