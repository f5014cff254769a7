"""The one token bucket: a refusing `take` (agent streams) and a waiting `reserve` (executor)."""

from __future__ import annotations

from tongchou.ratelimit import TokenBucket


def test_take_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=3.0)
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(100.4) is False  # 0.8 of a token
    assert bucket.take(100.5) is True  # one token after half a second at 2/s
    assert bucket.take(200.0) and bucket.tokens == 2.0  # refilled to the burst, no more


def test_reserve_owes_tokens_and_says_how_long_to_wait() -> None:
    bucket = TokenBucket(rate=10.0, burst=2.0)
    assert [bucket.reserve(5.0) for _ in range(2)] == [0.0, 0.0]
    assert bucket.reserve(5.0) == 0.1
    assert round(bucket.reserve(5.0), 9) == 0.2
    assert bucket.reserve(5.5) == 0.0  # the two owed are repaid and one is left
