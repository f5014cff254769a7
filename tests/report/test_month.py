"""The month a report covers: parsed strictly, in China Standard Time, cut at now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console.report.month import CST, Month


def test_a_month_runs_from_its_first_day_to_the_next_months_in_beijing_time() -> None:
    november = Month.parse("2026-11")
    assert november.start == datetime(2026, 11, 1, tzinfo=CST)
    assert november.end == datetime(2026, 12, 1, tzinfo=CST)
    assert november.start.astimezone(UTC) == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert Month.parse("2026-12").end == datetime(2027, 1, 1, tzinfo=CST)
    assert str(november) == "2026-11"


def test_the_window_ends_now_while_the_month_is_under_way() -> None:
    now = datetime(2026, 11, 30, 13, tzinfo=UTC)
    assert Month.parse("2026-11").window(now) == (datetime(2026, 11, 1, tzinfo=CST), now)
    later = now + timedelta(days=90)
    assert Month.parse("2026-11").window(later)[1] == datetime(2026, 12, 1, tzinfo=CST)
    with pytest.raises(ValueError, match="--month 2026-12: the month has not begun yet"):
        Month.parse("2026-12").window(now)


@pytest.mark.parametrize("bad", ["2026-13", "2026-00", "2026-1", "202611", "Nov 2026", ""])
def test_a_bad_month_says_the_form(bad: str) -> None:
    with pytest.raises(ValueError, match=r"give a month as YYYY-MM, e\.g\. 2026-11"):
        Month.parse(bad)
