"""The sample province the tests share: where it is (one path for every suite)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "guangdong"
"""The sample province's fleet documents (workloads, planning and policies beside them)."""
