"""Persistence of the fleet inventory, behind a small interface: SQLite or PostgreSQL."""

from console.store.base import InventoryStore, StoredNode, StoredWorkload
from console.store.open import is_postgres, open_store
from console.store.sqlite import SqliteStore, StoreError

__all__ = [
    "InventoryStore",
    "SqliteStore",
    "StoreError",
    "StoredNode",
    "StoredWorkload",
    "is_postgres",
    "open_store",
]
