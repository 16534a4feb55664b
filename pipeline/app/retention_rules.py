"""Give a document its record class and ``retain_until`` from the retention schedule (pipeline.core.schedule).

Called at ingest for every document and again for every document when the schedule changes. The start date
of a class triggered by the issue date is the issue date, or the day the archive received the document when
the manifest gives none (later, so never shorter). A class triggered by the dossier's closing has no end date
while its dossier is open: such a document is never due.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from pipeline.core.dates import VIETNAM
from pipeline.core.disposal import DISPOSAL_RECORD_CLASS, DISPOSAL_RECORD_CLASS_NAME, DISPOSAL_RECORD_TYPE
from pipeline.core.record import DocumentRecord, RetentionFacts
from pipeline.core.schedule import Schedule, Trigger, load_schedule
from pipeline.core.settings import Settings
from pipeline.core.text import fold


@lru_cache(maxsize=8)
def _cached(path: Path | None, stamp: tuple[int, int, int]) -> Schedule:
    return load_schedule(path)


def schedule_for(settings: Settings) -> Schedule:
    """The configured schedule (re-read when its file changes). Raises ScheduleError with a clear line."""
    path = settings.schedule_path
    if path is None or not path.exists():
        return _cached(path, (0, 0, 0))
    info = path.stat()
    return _cached(path, (info.st_mtime_ns, info.st_size, info.st_ino))


def retention_facts(record: DocumentRecord, schedule: Schedule, dossier_closed: date | None = None
                    ) -> tuple[RetentionFacts, date | None]:
    """The record class of ``record`` under ``schedule`` and its end of retention (None: permanent, or the
    trigger has not happened)."""
    meta = record.metadata
    if fold(meta.doc_type) == fold(DISPOSAL_RECORD_TYPE):  # the proof of a destruction: never destroyed
        return RetentionFacts(class_code=DISPOSAL_RECORD_CLASS, class_name=DISPOSAL_RECORD_CLASS_NAME,
                              permanent=True, trigger=Trigger.ISSUED.value, trigger_date=meta.issued_date,
                              action="transfer", schedule=schedule.version), None
    cls = schedule.classify(meta.doc_type, meta.issuer, meta.title)
    if cls.trigger is Trigger.ISSUED:
        start: date | None = meta.issued_date or record.source.received_at.astimezone(VIETNAM).date()
    else:
        start = dossier_closed
    facts = RetentionFacts(class_code=cls.code, class_name=cls.name, years=cls.years, permanent=cls.permanent,
                           trigger=cls.trigger.value, trigger_date=start, action=cls.action.value,
                           schedule=schedule.version)
    until = None if cls.permanent or start is None else schedule.retain_until(cls, start)
    review = record.retention.review
    if review is not None:  # a review decision only ever keeps a document longer than the schedule
        facts.review = review
        if review.permanent:
            facts.permanent, until = True, None
        elif until is not None and review.keep_until is not None:
            until = max(until, review.keep_until)
    return facts, until


def assign(record: DocumentRecord, schedule: Schedule, dossier_closed: date | None = None) -> None:
    """Set ``record.retention`` and ``record.retain_until`` in place."""
    record.retention, record.retain_until = retention_facts(record, schedule, dossier_closed)
