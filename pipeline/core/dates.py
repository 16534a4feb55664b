"""Dates as people write them here: ISO ``YYYY-MM-DD`` and the Vietnamese ``dd/mm/yyyy`` (also ``d/m/yyyy``).

Shared by the manifest reader and the command line (``--from/--to``). The slash form is always read
day first, as Vietnamese documents write it: ``11/20/2026`` (US order) is refused, not guessed.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

# Vietnam time (+07:00; no daylight saving time): the records office's calendar day, messages, signing time.
VIETNAM = timezone(timedelta(hours=7), "ICT")

_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DAY_FIRST = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
EXPECTED = "expected YYYY-MM-DD or dd/mm/yyyy"


def parse_date(text: str) -> date:
    """``"2026-11-20"``, ``"20/11/2026"`` or ``"5/1/2024"`` → a date. Raises ValueError with a message
    for the user, e.g. ``'31/02/2026' is not a date (expected YYYY-MM-DD or dd/mm/yyyy)``."""
    raw = text.strip()
    if match := _ISO.fullmatch(raw):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DAY_FIRST.fullmatch(raw):
        day, month, year = (int(g) for g in match.groups())
    else:
        raise ValueError(f"{text!r} is not a date ({EXPECTED})")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"{text!r} is not a date ({EXPECTED})") from None


def day_bound(day: date, end: bool) -> datetime:
    """A ``--from``/``--to`` day as an instant: the start of ``day`` in Vietnam time, or for an end bound the
    start of the next day (so the whole last day is included)."""
    return datetime.combine(day + timedelta(days=1) if end else day, time(), VIETNAM)
