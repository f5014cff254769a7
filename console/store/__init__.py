"""Persistence of the fleet inventory, behind a small interface (SQLite now)."""

from console.store.base import InventoryStore, StoredNode, StoredWorkload
from console.store.sqlite import SqliteStore, StoreError

__all__ = ["InventoryStore", "SqliteStore", "StoreError", "StoredNode", "StoredWorkload"]
