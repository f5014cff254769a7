"""Fixtures of the hostile-input suite: a mutual-TLS hub with users, and a probe agent."""

from .secure_hub import api, probe

__all__ = ["api", "probe"]
