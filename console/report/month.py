"""The month a report covers, in China Standard Time (UTC+8, no daylight saving)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")
_MONTH = re.compile(r"(\d{4})-(\d{2})\Z")


@dataclass(frozen=True, slots=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, value: str) -> Month:
        """`2026-11`; ValueError says what is wrong."""
        match = _MONTH.match(value.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f"--month {value!r}: give a month as YYYY-MM, e.g. 2026-11")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=CST)

    @property
    def end(self) -> datetime:
        """The first instant of the next month."""
        if self.month == 12:
            return datetime(self.year + 1, 1, 1, tzinfo=CST)
        return datetime(self.year, self.month + 1, 1, tzinfo=CST)

    def window(self, now: datetime | None = None) -> tuple[datetime, datetime]:
        """From the month's start to its end, or to `now` while the month is under way;
        ValueError for a month that has not begun."""
        now = now or datetime.now(UTC)
        if now <= self.start:
            raise ValueError(f"--month {self}: the month has not begun yet")
        return self.start, min(self.end, now)
