"""Believable usage for a simulated node: a daily cycle, noise, and a few hot and idle nodes."""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass
from enum import StrEnum

BEIJING_OFFSET = 8 * 3600


class Profile(StrEnum):
    """How busy a node is over the day."""

    IDLE = "idle"  # a department's server bought and forgotten: 2-8 % CPU
    NORMAL = "normal"
    HOT = "hot"  # a popular shared platform: 80-95 % CPU


@dataclass(frozen=True, slots=True)
class UsageModel:
    """Deterministic per node: the same name and seed give the same curve."""

    profile: Profile
    base_cpu: float
    base_memory: float
    phase: float
    noise: float
    seed: int

    @classmethod
    def for_node(cls, name: str, seed: int = 0) -> UsageModel:
        rng = random.Random(zlib.crc32(name.encode()) ^ seed)
        roll = rng.random()
        if roll < 0.03:
            profile, cpu, memory = Profile.HOT, rng.uniform(0.80, 0.92), rng.uniform(0.75, 0.9)
        elif roll < 0.15:
            profile, cpu, memory = Profile.IDLE, rng.uniform(0.02, 0.06), rng.uniform(0.08, 0.2)
        else:
            profile, cpu, memory = Profile.NORMAL, rng.uniform(0.15, 0.45), rng.uniform(0.3, 0.65)
        return cls(
            profile,
            cpu,
            memory,
            rng.uniform(-0.5, 0.5),
            rng.uniform(0.01, 0.04),
            rng.randrange(2**31),
        )

    def daily(self, now: float) -> float:
        """1.0 at the office-hours peak (about 15:00 Beijing time), about 0.35 at night."""
        hour = ((now + BEIJING_OFFSET) / 3600.0 + self.phase) % 24.0
        return 0.675 + 0.325 * math.cos((hour - 15.0) / 24.0 * 2 * math.pi)

    def cpu(self, now: float, rng: random.Random) -> float:
        if self.profile is Profile.HOT:
            value = self.base_cpu + rng.gauss(0, self.noise)
        else:
            value = self.base_cpu * self.daily(now) + rng.gauss(0, self.noise)
        return min(1.0, max(0.0, value))

    def memory(self, now: float, rng: random.Random) -> float:
        value = self.base_memory * (0.9 + 0.1 * self.daily(now)) + rng.gauss(0, 0.005)
        return min(0.98, max(0.01, value))
