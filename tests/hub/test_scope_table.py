"""The scope table covers exactly the scoped methods of the permission table, by wire name."""

from __future__ import annotations

import pytest

from console.hub.api import scope
from console.security.authz import METHODS, Rule


def test_every_scoped_method_is_checked_or_refused() -> None:
    assert scope.unmatched(METHODS) == []


def test_a_scoped_method_without_an_entry_is_reported() -> None:
    methods = {
        **METHODS,
        "/tongchou.v1.InventoryService/Invented": Rule("inventory.read", scoped=True),
    }
    assert scope.unmatched(methods) == ["/tongchou.v1.InventoryService/Invented"]


def test_an_entry_for_a_method_the_permission_table_does_not_scope_is_reported() -> None:
    methods = {m: r for m, r in METHODS.items() if not m.endswith("/GetNode")}
    assert scope.unmatched(methods) == ["/tongchou.v1.InventoryService/GetNode"]


def test_method_paths_are_checked_against_the_wire_contract() -> None:
    assert scope.method_path("InventoryService", "ListNodes") == (
        "/tongchou.v1.InventoryService/ListNodes"
    )
    with pytest.raises(KeyError):
        scope.method_path("InventoryService", "ListNode")
