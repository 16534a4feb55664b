"""Issue 12 without services: reporting periods in Vietnam time, working time under the calendar (hours, weekends,
Vietnam's public holidays and make-up Saturdays from the `holidays` library, the agency's extra days), the
[stats] settings, and the manifest's received_at column."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from pipeline.app.statistics.periods import DateRange, local_date, parse_period, period_key, resolve_range
from pipeline.app.statistics.workhours import WorkCalendar
from pipeline.core.dates import VIETNAM
from pipeline.core.settings import ConfigError, StatsSettings, load_settings
from pipeline.scan.manifest import parse_received_at

HOUR = 3600.0


def vn(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=VIETNAM)  # type: ignore[misc]


@pytest.mark.parametrize(("text", "first", "last"), [
    ("2026", date(2026, 1, 1), date(2026, 12, 31)),
    ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
    ("q1/2024", date(2024, 1, 1), date(2024, 3, 31)),
    ("2026-11", date(2026, 11, 1), date(2026, 11, 30)),
    ("2/2024", date(2024, 2, 1), date(2024, 2, 29)),
    ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
])
def test_periods_parse_as_reports_write_them(text: str, first: date, last: date) -> None:
    assert parse_period(text) == (first, last)


@pytest.mark.parametrize("text", ["2026-13", "2026-Q5", "Q4", "26-11", "november"])
def test_a_bad_period_is_refused_in_the_users_terms(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a period \(expected a year"):
        parse_period(text)


def test_period_keys_follow_vietnam_time_not_utc() -> None:
    evening_utc = datetime(2026, 10, 31, 22, 0, tzinfo=UTC)  # 05:00 on 1 November in Hà Nội
    assert local_date(evening_utc) == date(2026, 11, 1)
    assert period_key(local_date(evening_utc), "month") == "2026-11"
    assert local_date(datetime(2026, 9, 30, 18, 0)) == date(2026, 10, 1)  # naive: UTC, as the catalog stores
    assert [period_key(date(2026, 9, 30), g) for g in ("month", "quarter", "year")] == ["2026-09", "2026-Q3", "2026"]
    assert period_key(date(2026, 10, 1), "quarter") == "2026-Q4"


def test_ranges_include_both_days_and_refuse_mixing_a_period_with_dates() -> None:
    days = resolve_range(None, date(2026, 10, 1), date(2026, 10, 31))
    assert days.contains(date(2026, 10, 31)) and not days.contains(date(2026, 11, 1))
    assert resolve_range("2026-Q4") == DateRange(date(2026, 10, 1), date(2026, 12, 31))
    assert resolve_range(None, None, date(2026, 1, 1)).contains(date(1900, 1, 1))
    with pytest.raises(ValueError, match="not both"):
        resolve_range("2026-Q4", date(2026, 10, 1))
    with pytest.raises(ValueError, match="ends"):
        DateRange(date(2026, 10, 2), date(2026, 10, 1))


def test_working_time_counts_hours_of_working_days_only() -> None:
    cal = WorkCalendar()
    assert cal.working_seconds(vn(2026, 10, 5, 8, 0), vn(2026, 10, 5, 14, 0)) == 4.5 * HOUR  # lunch excluded
    assert cal.working_seconds(vn(2026, 11, 27, 16, 30), vn(2026, 11, 30, 8, 0)) == 1 * HOUR  # over a weekend
    assert cal.working_seconds(vn(2026, 10, 5, 18, 0), vn(2026, 10, 6, 7, 0)) == 0  # a night
    assert cal.working_seconds(vn(2026, 10, 6, 9, 0), vn(2026, 10, 5, 9, 0)) == 0  # backwards: nothing
    # the same instants in UTC give the same time
    assert cal.working_seconds(datetime(2026, 10, 5, 1, 0, tzinfo=UTC), datetime(2026, 10, 5, 2, 30, tzinfo=UTC)) \
        == 1.5 * HOUR


def test_public_holidays_and_make_up_days_of_vietnam() -> None:
    cal = WorkCalendar()
    # National Day 2026: 1 and 2 September, with Monday 31 August off in exchange for Saturday 22 August.
    assert not cal.is_working_day(date(2026, 8, 31))
    assert not cal.is_working_day(date(2026, 9, 1)) and not cal.is_working_day(date(2026, 9, 2))
    assert cal.is_working_day(date(2026, 8, 22))  # a Saturday worked
    received_on_national_day = vn(2026, 9, 2, 10, 0)
    assert cal.working_seconds(received_on_national_day, vn(2026, 9, 3, 9, 30)) == 2 * HOUR  # from 07:30 on 3/9
    # Tết 2026: 16 to 20 February; received on Friday 13 February at 16:00, archived on Monday 23 at 08:30.
    assert not any(cal.is_working_day(date(2026, 2, d)) for d in range(16, 21))
    assert cal.working_seconds(vn(2026, 2, 13, 16, 0), vn(2026, 2, 23, 8, 30)) == 2 * HOUR
    # A whole year: 2026 has 261 weekdays, 13 of them holidays, and one Saturday worked: 249 days of 8 hours.
    assert cal.working_seconds(vn(2026, 1, 1, 0, 0), vn(2027, 1, 1, 0, 0)) == 249 * 8 * HOUR


def test_the_agency_adds_days_off_and_working_days() -> None:
    settings = StatsSettings(extra_days_off=["2026-10-05"], extra_working_days=["2026-10-10"],
                             working_hours=["08:00-12:00"], deadline_hours=4)
    cal = WorkCalendar.from_settings(settings)
    assert not cal.is_working_day(date(2026, 10, 5)) and cal.is_working_day(date(2026, 10, 10))
    assert cal.working_seconds(vn(2026, 10, 5, 8, 0), vn(2026, 10, 6, 10, 0)) == 2 * HOUR
    assert cal.working_seconds(vn(2026, 10, 9, 11, 0), vn(2026, 10, 10, 9, 0)) == 2 * HOUR  # Friday → Saturday
    assert cal.describe()["working_hours"] == ["08:00-12:00"]
    no_holidays = WorkCalendar.from_settings(StatsSettings(holidays=""))
    assert no_holidays.is_working_day(date(2026, 9, 2))
    with pytest.raises(ValueError, match="both an extra day off and an extra working day"):
        WorkCalendar.from_settings(StatsSettings(extra_days_off=["2026-10-10"], extra_working_days=["2026-10-10"]))
    with pytest.raises(ValueError, match="not a country of the holidays library"):
        WorkCalendar.from_settings(StatsSettings(holidays="XX"))


def test_stats_settings_defaults_and_refusals(tmp_path: Path) -> None:
    defaults = StatsSettings()
    assert (defaults.scanned_share_max, defaults.signed_share_min, defaults.electronic_exchange_min) == \
        (0.5, 0.95, 0.95)
    assert defaults.deadline_hours == 2 and defaults.working_hours == ["07:30-11:30", "13:00-17:00"]
    assert "Giấy mời" in defaults.electronic_only_types and "Công văn" in defaults.electronic_only_types
    env = {"ARCHIVE_STATS__WORKING_HOURS": "08:00-12:00, 13:30-17:30", "ARCHIVE_STATS__SCANNED_SHARE_MAX": "0.4",
           "ARCHIVE_STATS__EXTRA_WORKING_DAYS": "2026-10-10"}
    loaded = load_settings(tmp_path, environ=env)
    assert loaded.stats.working_hours == ["08:00-12:00", "13:30-17:30"] and loaded.stats.scanned_share_max == 0.4
    assert loaded.stats.extra_working_days == ["2026-10-10"]
    for name, value, reason in [("WORKING_HOURS", "11:00-09:00", "ends before it starts"),
                                ("WORKING_HOURS", "07:30-12:00,11:00-17:00", "overlap"),
                                ("WORKING_DAYS", "mon,funday", "unknown day"),
                                ("EXTRA_DAYS_OFF", "31/02/2026", "not a date"),
                                ("SIGNED_SHARE_MIN", "1.5", "less than or equal to 1")]:
        with pytest.raises(ConfigError, match=reason):
            load_settings(tmp_path, environ={f"ARCHIVE_STATS__{name}": value})


def test_the_manifest_received_at_column() -> None:
    now = vn(2026, 11, 30, 12, 0)
    assert parse_received_at("2026-11-01T05:00+07:00", now) == datetime(2026, 10, 31, 22, 0, tzinfo=UTC)
    assert parse_received_at("2026-10-31 23:30", now) == vn(2026, 10, 31, 23, 30)  # no offset: Vietnam time
    assert parse_received_at("2026-09-30T18:00Z", now) == vn(2026, 10, 1, 1, 0)
    assert parse_received_at("02/09/2026", now) == vn(2026, 9, 2, 0, 0)
    assert parse_received_at("2/9/2026 8:05", now) == vn(2026, 9, 2, 8, 5)
    assert parse_received_at("", now) is None
    for bad, reason in [("2026-11-30T12:01", "in the future"), ("1799-12-31", "before 1800"),
                        ("31/02/2026", "not a date"), ("09/30/2026 10:00", "not a date"),
                        ("2026-10-31T24:30", "not a date"), ("hôm qua", "not a date")]:
        with pytest.raises(ValueError, match=reason):
            parse_received_at(bad, now)


def test_a_batch_takes_received_at_per_document(tmp_path: Path) -> None:
    """The manifest's received_at lands on the intake item (the batch's own time when the cell is empty); a bad
    one quarantines its document with the row's reason, like a bad issue date."""
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf
    from pipeline.scan import plan_batch

    batch = tmp_path / "lo"
    for name in ("a.pdf", "b.pdf", "c.pdf"):
        make_born_digital_pdf([f"Văn bản {name}"], batch / name)
    (batch / "manifest.csv").write_text("path,doc_type,received_at\na.pdf,Công văn,2026-11-01T05:00+07:00\n"
                                        "b.pdf,Công văn,\nc.pdf,Công văn,3000-01-01\n", encoding="utf-8")
    plan = plan_batch(batch)
    items = {d.source_path: d for d in plan.documents}
    assert items["a.pdf"].received_at == vn(2026, 11, 1, 5, 0) and items["b.pdf"].received_at is None
    (problem,) = plan.problems
    assert problem.source_path == "c.pdf" and "received_at '3000-01-01' is before 1800 or in the future" in \
        problem.reason
    assert plan.manifest_errors == []


def test_a_document_archived_exactly_at_the_deadline_is_on_time_whatever_its_microseconds() -> None:
    cal = WorkCalendar()
    for micro in range(0, 1_000_000, 997):
        start = vn(2026, 11, 3, 8, 0).replace(microsecond=micro)  # a Tuesday morning
        assert cal.working_seconds(start, start.replace(hour=10)) == 7200.0
