"""Reporting periods in Vietnam time (+07:00): a document received at 2026-11-01 05:00 in Hà Nội (22:00 UTC the
evening before) belongs to November, as the records office's register says, not to October.

Periods are written as people write them in reports: ``2026`` (a year), ``2026-Q4`` or ``Q4/2026`` (a quarter),
``2026-11`` or ``11/2026`` (a month). A custom range is two days, both included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from pipeline.core.dates import VIETNAM

Granularity = Literal["month", "quarter", "year"]
GRANULARITIES: tuple[Granularity, ...] = ("month", "quarter", "year")
EXPECTED = "expected a year (2026), a quarter (2026-Q4 or Q4/2026) or a month (2026-11 or 11/2026)"
_YEAR = re.compile(r"([0-9]{4})")
_QUARTER = re.compile(r"([0-9]{4})-?Q([1-4])|Q([1-4])[/-]([0-9]{4})", re.IGNORECASE)
_MONTH = re.compile(r"([0-9]{4})-([0-9]{1,2})|([0-9]{1,2})/([0-9]{4})")


def local_date(moment: datetime) -> date:
    """The calendar day of ``moment`` in Vietnam (a naive moment is taken as UTC, as the catalog stores it)."""
    return as_utc(moment).astimezone(VIETNAM).date()


def as_utc(moment: datetime) -> datetime:
    """An aware moment (a naive one is UTC: the catalog stores UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def period_key(day: date, granularity: Granularity) -> str:
    """``2026-11`` (month), ``2026-Q4`` (quarter) or ``2026`` (year) of a Vietnam calendar day."""
    if granularity == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if granularity == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year:04d}"


def _month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def parse_period(text: str) -> tuple[date, date]:
    """The first and last day of a period written as a year, a quarter or a month. Raises ValueError with a
    message for the user."""
    raw = text.strip()
    if found := _YEAR.fullmatch(raw):
        year = int(found[1])
        return date(year, 1, 1), date(year, 12, 31)
    if found := _QUARTER.fullmatch(raw):
        year, quarter = (int(found[1]), int(found[2])) if found[1] else (int(found[4]), int(found[3]))
        first = 3 * (quarter - 1) + 1
        return date(year, first, 1), _month_end(year, first + 2)
    if found := _MONTH.fullmatch(raw):
        year, month = (int(found[1]), int(found[2])) if found[1] else (int(found[4]), int(found[3]))
        if 1 <= month <= 12:
            return date(year, month, 1), _month_end(year, month)
    raise ValueError(f"{text!r} is not a period ({EXPECTED})")


@dataclass(frozen=True)
class DateRange:
    """Vietnam calendar days ``start`` to ``end``, both included; None: open on that side."""

    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"the range ends ({self.end}) before it starts ({self.start})")

    def contains(self, day: date) -> bool:
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)

    def to_dict(self) -> dict[str, str | None]:
        return {"from": self.start.isoformat() if self.start else None,
                "to": self.end.isoformat() if self.end else None}


def resolve_range(period: str | None = None, start: date | None = None, end: date | None = None) -> DateRange:
    """The days a query covers: a named period, or ``start``/``end`` (either may be open), never both."""
    if period:
        if start or end:
            raise ValueError("give a period or a from/to range, not both")
        return DateRange(*parse_period(period))
    return DateRange(start, end)
