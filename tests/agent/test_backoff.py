"""Tests for agent.daemon.Backoff: capped exponential backoff with jitter."""

from __future__ import annotations

import random

import pytest

from agent.daemon import Backoff


class RecordingRandom(random.Random):
    """A seeded Random that remembers the bounds of every uniform() call."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.bounds: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.bounds.append((a, b))
        return super().uniform(a, b)


def test_delays_stay_between_half_initial_and_cap() -> None:
    backoff = Backoff(initial=1.0, cap=60.0, rng=random.Random(7))
    delays = [backoff.next() for _ in range(200)]
    assert max(delays) <= 60.0
    assert min(delays) >= 0.5
    # After a few attempts the full range is used: some delays are large.
    assert max(delays[10:]) > 30.0


@pytest.mark.parametrize("seed", [0, 1, 42, 2024])
def test_each_delay_within_its_ceiling(seed: int) -> None:
    backoff = Backoff(initial=0.5, cap=10.0, rng=random.Random(seed))
    for attempt in range(40):
        ceiling = min(10.0, 0.5 * 2**attempt)
        delay = backoff.next()
        assert 0.25 <= delay <= ceiling


def test_ceiling_doubles_until_cap() -> None:
    rng = RecordingRandom(3)
    backoff = Backoff(initial=1.0, cap=20.0, rng=rng)
    for _ in range(8):
        backoff.next()
    assert [b for _a, b in rng.bounds] == [1.0, 2.0, 4.0, 8.0, 16.0, 20.0, 20.0, 20.0]
    assert {a for a, _b in rng.bounds} == {0.5}


def test_attempt_counter_saturates() -> None:
    backoff = Backoff(initial=1.0, cap=60.0, rng=random.Random(1))
    for _ in range(100):
        assert backoff.next() <= 60.0
    assert backoff.attempt == 30


def test_reset_starts_over() -> None:
    rng = RecordingRandom(11)
    backoff = Backoff(initial=2.0, cap=60.0, rng=rng)
    for _ in range(5):
        backoff.next()
    assert backoff.attempt == 5
    backoff.reset()
    assert backoff.attempt == 0
    first = backoff.next()
    assert rng.bounds[-1] == (1.0, 2.0)
    assert 1.0 <= first <= 2.0


def test_same_seed_same_delays() -> None:
    one = Backoff(initial=1.0, cap=30.0, rng=random.Random(99))
    two = Backoff(initial=1.0, cap=30.0, rng=random.Random(99))
    assert [one.next() for _ in range(12)] == [two.next() for _ in range(12)]
