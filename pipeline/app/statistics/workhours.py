"""Working time between two instants, under the records office's calendar (Vietnam time).

The directives' deadlines count working hours: an incoming document must be handled within 2 working hours, so
one received at 16:30 on a Friday that is archived at 08:00 on Monday took one working hour (16:30-17:00, then
07:30-08:00), and one received on National Day starts counting the next working morning.

The calendar: working hours (default 07:30-11:30 and 13:00-17:00), working weekdays (Monday to Friday), the public
holidays of the ``holidays`` library's country calendar (Vietnam: Tết, Hùng Kings, 30/4, 1/5, National Day …)
and its make-up working Saturdays, then the agency's own extra days off and extra working days (the Government
announces the exact Tết and bridge days each year; configuration follows it without a code change).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from pipeline.app.statistics.periods import as_utc
from pipeline.core.dates import VIETNAM
from pipeline.core.settings import StatsSettings
from pipeline.core.settings_sections import WEEKDAYS


@lru_cache(maxsize=512)
def _public(country: str, year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(public holidays, make-up working days on a weekend) of one year, from the ``holidays`` library."""
    if not country:
        return frozenset(), frozenset()
    import holidays

    try:
        calendar = holidays.country_holidays(country, years=year)
    except NotImplementedError:
        raise ValueError(f"stats.holidays: {country!r} is not a country of the holidays library (e.g. VN)") from None
    makeup = frozenset(d for d in getattr(calendar, "weekend_workdays", ()) if d.year == year)
    return frozenset(calendar), makeup


@dataclass(frozen=True)
class WorkCalendar:
    spans: tuple[tuple[int, int], ...] = ((450, 690), (780, 1020))  # minutes after midnight, sorted
    weekdays: frozenset[int] = frozenset(range(5))  # Monday = 0
    country: str = "VN"
    days_off: frozenset[date] = frozenset()
    working_days: frozenset[date] = frozenset()
    _years: dict[int, list[int]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        both = sorted(self.days_off & self.working_days)
        if both:
            raise ValueError(f"stats: {', '.join(map(str, both))} is both an extra day off and an extra working day")
        _public(self.country, 2000)  # an unknown country fails here, with its reason

    @classmethod
    def from_settings(cls, stats: StatsSettings) -> WorkCalendar:
        spans = []
        for text in stats.working_hours:
            start, end = text.split("-")
            spans.append((_minutes(start), _minutes(end)))
        return cls(spans=tuple(sorted(spans)), weekdays=frozenset(WEEKDAYS.index(d) for d in stats.working_days),
                   country=stats.holidays, days_off=frozenset(map(date.fromisoformat, stats.extra_days_off)),
                   working_days=frozenset(map(date.fromisoformat, stats.extra_working_days)))

    def is_working_day(self, day: date) -> bool:
        if day in self.days_off:
            return False
        if day in self.working_days:
            return True
        holidays, makeup = _public(self.country, day.year)
        if day in holidays:
            return False
        return day in makeup or day.weekday() in self.weekdays

    def day_seconds(self, day: date) -> int:
        """Working seconds of a whole day (0 on a day off)."""
        return sum(end - start for start, end in self.spans) * 60 if self.is_working_day(day) else 0

    def _year(self, year: int) -> list[int]:
        """Working seconds before each day of ``year``: index 0 is 1 January, the last entry the whole year."""
        table = self._years.get(year)
        if table is None:
            table, total, day = [0], 0, date(year, 1, 1)
            while day.year == year:
                total += self.day_seconds(day)
                table.append(total)
                day += timedelta(days=1)
            self._years[year] = table
        return table

    def _before_day(self, day: date) -> int:
        return self._year(day.year)[day.timetuple().tm_yday - 1]

    def _between_days(self, first: date, last: date) -> int:
        """Working seconds of the whole days ``first`` (included) to ``last`` (excluded)."""
        years = sum(self._year(y)[-1] for y in range(first.year, last.year))
        return years - self._before_day(first) + self._before_day(last)

    def _within_day(self, moment: datetime) -> float:
        """Working seconds of ``moment``'s day (Vietnam time) before ``moment``."""
        local = moment.astimezone(VIETNAM)
        if not self.is_working_day(local.date()):
            return 0.0
        now = (local - datetime.combine(local.date(), time(), VIETNAM)).total_seconds()
        return sum(min(max(now - start * 60, 0.0), (end - start) * 60.0) for start, end in self.spans)

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """Working time from ``start`` to ``end`` in seconds (0 when ``end`` is not after ``start``)."""
        start, end = as_utc(start), as_utc(end)
        if end <= start:
            return 0.0
        first, last = start.astimezone(VIETNAM).date(), end.astimezone(VIETNAM).date()
        # Whole milliseconds: float sums of microsecond times would put a document archived exactly at the
        # deadline 4e-12 s past it.
        return round(self._between_days(first, last) + self._within_day(end) - self._within_day(start), 3)

    def describe(self) -> dict[str, object]:
        """The calendar as the statistics' JSON states it."""
        return {"working_hours": [f"{_hhmm(a)}-{_hhmm(b)}" for a, b in self.spans],
                "working_days": [WEEKDAYS[d] for d in sorted(self.weekdays)], "holidays": self.country,
                "extra_days_off": sorted(map(str, self.days_off)),
                "extra_working_days": sorted(map(str, self.working_days)), "time_zone": "+07:00"}


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
