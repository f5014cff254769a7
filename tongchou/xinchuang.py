"""Domestic (信创) CPUs: the one rule the situation view, the monthly report and the national
roll-up count the 信创 share of cores by."""

from __future__ import annotations

FAMILIES = ("kunpeng", "phytium", "hygon", "zhaoxin", "loongson", "sunway")
"""Chip families of domestic CPUs (Kunpeng, Phytium, Hygon, Zhaoxin, Loongson, Sunway), by the
prefix of a node's chip id (`kunpeng-920`, `hygon-7380`)."""
ARCHS = frozenset({"loongarch64", "sw_64"})
"""Architectures only domestic chips implement (LoongArch, SW64)."""


def is_domestic(arch: str, chip: str) -> bool:
    """Whether a node's CPU is a domestic one, from its reported arch and chip id."""
    return arch in ARCHS or chip.lower().startswith(FAMILIES)
