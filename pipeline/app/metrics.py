"""Prometheus metrics of the pipeline: what the workers and the CLI did (documents by origin and outcome, pages,
stage durations, failures by stage, documents in progress) and what storage and the catalog hold right now
(quarantine entries, active legal holds).

Recorded where the outcome is known (:mod:`pipeline.app.archiving` for each document a process archives,
duplicates or quarantines; :mod:`pipeline.app.batches` for in-batch duplicates and documents that failed; the
index step where it runs), into ``<home>/metrics`` (:mod:`pipeline.app.metrics_files`). Exposed by
:func:`exposition` — the text `archive metrics` prints and the REST service serves behind sign-in — and never by
a listener of its own: the service rules allow no unauthenticated port.

Recording never fails an archive: a metrics problem is logged and the document goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import product

from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from pipeline.app.context import Context
from pipeline.app.metrics_files import Family, Recorder, data_files, merged, metrics_dir, recorder
from pipeline.app.process import ARCHIVED, DUPLICATE, FAILED, QUARANTINED, DocumentOutcome
from pipeline.core.actor import AccessDenied, Actor
from pipeline.core.record import DocumentRecord
from pipeline.core.settings import Settings
from pipeline.core.vocabulary import Classification, Origin, Role

log = logging.getLogger("archive.metrics")
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # what generate_latest writes

ORIGINS = tuple(o.value for o in Origin)
DOCUMENT_ORIGINS = (*ORIGINS, "unknown")  # unknown: an input that never became a document (unreadable file)
OUTCOMES = (ARCHIVED, DUPLICATE, QUARANTINED, FAILED)
STAGES = ("ocr", "pdfa", "preserve", "sign", "store", "index")
FAILURE_STAGES = ("intake", *STAGES, "other")  # other: failed outright (storage or catalog down, a lost task)
BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)

DOCUMENTS = Family("archive_documents", "counter", "Documents processed, by origin and outcome.",
                   ("origin", "outcome"), tuple(product(DOCUMENT_ORIGINS, OUTCOMES)))
PAGES = Family("archive_pages", "counter", "Pages of the documents archived, by origin.",
               ("origin",), tuple((o,) for o in ORIGINS))
STAGE_SECONDS = Family("archive_stage_duration_seconds", "histogram",
                       "Time a document spent in a pipeline stage (archived documents).",
                       ("stage",), tuple((s,) for s in STAGES), BUCKETS)
FAILURES = Family("archive_failures", "counter",
                  "Documents quarantined or failed, by the stage that failed; index failures of archived documents.",
                  ("stage",), tuple((s,) for s in FAILURE_STAGES))
IN_PROGRESS = Family("archive_documents_in_progress", "gauge", "Documents in the stages right now.",
                     mode="livesum")
FIXITY_CHECKS = Family("archive_fixity_checks", "counter", "Fixity checks of stored documents, by outcome.",
                       ("outcome",), (("ok",), ("failed",)))
REPLICA_OUTCOMES = ("copied", "repaired_primary", "repaired_replica", "damaged", "failed")
REPLICA = Family("archive_replica_objects", "counter",
                 "The second copy (pipeline.app.replicas): versions copied to the replica, objects repaired on the "
                 "primary or the replica from the other side, objects left damaged or not replicated, and "
                 "replications that failed (the replica unreachable: caught up by `archive replicas sync`).",
                 ("outcome",), tuple((o,) for o in REPLICA_OUTCOMES))
RECORDED = (DOCUMENTS, PAGES, STAGE_SECONDS, FAILURES, IN_PROGRESS, FIXITY_CHECKS, REPLICA)


def _record(settings: Settings, action: Callable[[Recorder], None]) -> None:
    try:
        action(recorder(settings, RECORDED))
    except Exception:  # metrics never cost a document
        log.warning("could not record metrics in %s", metrics_dir(settings), exc_info=True)


def _one_of(value: str, allowed: tuple[str, ...], other: str) -> str:
    """Label values come from fixed sets: every series exists from the start and none is made later."""
    return value if value in allowed else other


def _count(rec: Recorder, outcome: DocumentOutcome, record: DocumentRecord | None, finished_at: datetime,
           origin: str) -> None:
    if outcome.status not in OUTCOMES:  # pending, skipped: not (yet) an outcome
        return
    origin = _one_of(origin or outcome.origin, DOCUMENT_ORIGINS, "unknown")
    rec.child(DOCUMENTS, origin, outcome.status).inc()
    if outcome.status == ARCHIVED and origin in ORIGINS:
        rec.child(PAGES, origin).inc(max(outcome.pages, 0))
    if outcome.status in (QUARANTINED, FAILED):
        rec.child(FAILURES, _one_of(outcome.stage, FAILURE_STAGES, "other")).inc()
    for event in record.events if record is not None else []:
        if event.stage not in STAGES:
            continue
        # The store event is written into the record before the upload: its end is when storage returned.
        end = finished_at if event.stage == "store" else event.finished_at
        rec.child(STAGE_SECONDS, event.stage).observe(max((end - event.started_at).total_seconds(), 0.0))


def document_done(settings: Settings, outcome: DocumentOutcome, record: DocumentRecord | None = None,
                  finished_at: datetime | None = None) -> None:
    """One document's outcome; with its stored record, the durations of its stages (from the record's events)."""
    end = finished_at or datetime.now(UTC)
    _record(settings, lambda rec: _count(rec, outcome, record, end, ""))


def documents_done(settings: Settings, outcomes: Iterable[DocumentOutcome],
                   origins: Mapping[str, str] | None = None) -> None:
    """Outcomes that never reached :func:`document_done` (in-batch duplicates, failed documents); ``origins``:
    source path → origin, for outcomes that do not carry theirs."""
    listed, known, now = list(outcomes), origins or {}, datetime.now(UTC)

    def count(rec: Recorder) -> None:
        for outcome in listed:
            _count(rec, outcome, None, now, known.get(outcome.source, ""))

    if listed:
        _record(settings, count)


def stage_done(settings: Settings, stage: str, seconds: float) -> None:
    if stage in STAGES:
        _record(settings, lambda rec: rec.child(STAGE_SECONDS, stage).observe(max(seconds, 0.0)))


def stage_failed(settings: Settings, stage: str) -> None:
    _record(settings, lambda rec: rec.child(FAILURES, _one_of(stage, FAILURE_STAGES, "other")).inc())


def fixity_checked(settings: Settings, ok: int, failed: int) -> None:
    """Documents found intact and damaged by one fixity run (pipeline.app.fixity)."""
    def count(rec: Recorder) -> None:
        rec.child(FIXITY_CHECKS, "ok").inc(ok)
        rec.child(FIXITY_CHECKS, "failed").inc(failed)

    if ok or failed:
        _record(settings, count)


def replica_counted(settings: Settings, counts: Mapping[str, int]) -> None:
    """What one replication, sync or check did (``{"copied": 3, "repaired_primary": 1, ...}``)."""
    def count(rec: Recorder) -> None:
        for outcome, value in counts.items():
            if value and outcome in REPLICA_OUTCOMES:
                rec.child(REPLICA, outcome).inc(value)

    if any(counts.values()):
        _record(settings, count)


@contextmanager
def in_progress(settings: Settings) -> Iterator[None]:
    _record(settings, lambda rec: rec.child(IN_PROGRESS).inc())
    try:
        yield
    finally:
        _record(settings, lambda rec: rec.child(IN_PROGRESS).dec())


# ---- collection -------------------------------------------------------------------------------------------
def _quarantine_entries(ctx: Context) -> int:
    """Entries in storage's quarantine (the system of record; the batch journal is not rebuilt and counts a
    re-ingested batch twice): one listing of the reason files, no object read."""
    from pipeline.archive import layout

    store = ctx.store
    listing = store.client.list_objects(store.bucket, prefix=layout.quarantine_prefix(None), recursive=True)
    return sum(1 for o in listing if o.object_name and o.object_name.endswith(layout.REASON_SUFFIX))


def _active_holds(ctx: Context) -> int:
    return sum(1 for hold in ctx.catalog.list_holds() if hold.active)


def _fixity_failing(ctx: Context) -> int:
    return ctx.catalog.fixity_failing_count()


SNAPSHOTS = (  # (source, metric, help, reader): read at collection time, cheap and exact
    ("storage", "archive_quarantine_entries", "Inputs kept in quarantine (storage listing).", _quarantine_entries),
    ("catalog", "archive_legal_holds_active", "Legal holds not released.", _active_holds),
    ("catalog", "archive_fixity_failing_documents", "Documents whose last fixity check failed.", _fixity_failing),
)


def collect(ctx: Context) -> list[Metric]:
    """All metric families: every process's recordings summed, then the snapshots of storage and the catalog
    (a source that cannot be read is left out and reported by ``archive_collector_up``)."""
    directory = metrics_dir(ctx.settings)
    families = merged(directory, RECORDED)
    up = GaugeMetricFamily("archive_collector_up", "1 if the source could be read for this collection.",
                           labels=["source"])
    for source, name, doc, read in SNAPSHOTS:
        try:
            value = read(ctx)
        except Exception:
            log.warning("metrics: could not read %s for %s", source, name, exc_info=True)
            up.add_metric([source], 0)
            continue
        families.append(GaugeMetricFamily(name, doc, value=value))
        up.add_metric([source], 1)
    families.append(up)
    families.append(GaugeMetricFamily("archive_metrics_files", f"Files under {directory.name}/ (one set per "
                                      "recording process, kept: their counts are totals).",
                                      value=len(data_files(directory))))
    return families


class _Families:
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> list[Metric]:
        return self._families


def exposition(ctx: Context, actor: Actor) -> bytes:
    """The Prometheus text exposition (:data:`CONTENT_TYPE`). The monitor role (a scraper's token; admins have
    it) at the highest clearance: the counts cover every document whatever its classification."""
    actor.require(Role.MONITOR, "read the metrics")
    if actor.clearance is not Classification.TUYET_MAT:
        raise AccessDenied(f"user {actor.name!r} may not read the metrics: they count documents of every "
                           f"classification (needs the {Classification.TUYET_MAT.value} clearance)")
    return generate_latest(_Families(collect(ctx)))
