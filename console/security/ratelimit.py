"""The token bucket the hub's guards use: `tongchou.ratelimit.TokenBucket`, the one there is."""

from __future__ import annotations

from tongchou.ratelimit import TokenBucket

__all__ = ["TokenBucket"]
