"""The use case behind `archive stats` (and the report's and dashboard's data): the figures the directives ask
for, for what the actor may see, over a period, grouped as asked.

Exact by construction: the figures come from the catalog (one row per content id, so a duplicate counts once;
destroyed documents stay as history), filtered by the actor's clearance inside SQL (a document above it is not
counted and its unit or type never appears). The backlog comes from the batch journal, where a quarantined input
has no classification yet: only those who run intake (archivist role) see it, as counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from pipeline.app.context import Context
from pipeline.app.errors import Invalid
from pipeline.app.statistics.figures import (
    GROUPINGS,
    SECRET_RANK,
    Fact,
    Targets,
    electronic_only_matcher,
    figures,
    grouped,
)
from pipeline.app.statistics.periods import DateRange, as_utc, local_date, resolve_range
from pipeline.app.statistics.workhours import WorkCalendar
from pipeline.catalog.rows import StatsRow
from pipeline.core.actor import Actor
from pipeline.core.record import DocumentRecord
from pipeline.core.settings import StatsSettings
from pipeline.core.text import fold
from pipeline.core.vocabulary import Classification, DocState, Role

BACKLOG_STATES = (DocState.QUARANTINED, DocState.FAILED, DocState.PENDING)
# pipeline.app.representations.SIGNED_ORIGINAL (not imported: that module pulls in the OCR stage): archive.pdf is
# the original as its issuer signed it.
SIGNED_ORIGINAL = "signed-original"


@dataclass(frozen=True)
class StatsQuery:
    """What to count: ``by`` any of unit, type, month, quarter, year (combined in that order of the tuple); a
    named ``period`` (2026-Q4) or a ``date_from``/``date_to`` range of receipt days (Vietnam time); one ``unit``."""

    by: tuple[str, ...] = ()
    period: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    unit: str | None = None

    def days(self) -> DateRange:
        try:
            return resolve_range(self.period, self.date_from, self.date_to)
        except ValueError as exc:
            raise Invalid(str(exc)) from None

    def check(self) -> None:
        unknown = [b for b in self.by if b not in GROUPINGS]
        if unknown:
            raise Invalid(f"cannot group by {', '.join(unknown)}: expected {', '.join(GROUPINGS)}")
        if len(set(self.by)) != len(self.by):
            raise Invalid("each grouping may be given once")


@dataclass
class Setup:
    """The configuration the figures need, built once per query."""

    targets: Targets
    calendar: WorkCalendar
    electronic_only: Callable[[str], bool]
    types: list[str] = field(default_factory=list)

    @classmethod
    def from_settings(cls, stats: StatsSettings) -> Setup:
        try:
            calendar = WorkCalendar.from_settings(stats)
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        targets = Targets(stats.scanned_share_max, stats.signed_share_min, stats.electronic_exchange_min,
                          stats.on_time_share_min, stats.deadline_hours * 3600)
        return cls(targets, calendar, electronic_only_matcher(stats.electronic_only_types),
                   list(stats.electronic_only_types))

    def fact(self, row: StatsRow | DocumentRecord) -> Fact:
        """A catalog stats row or a whole record, as the figures see it."""
        if isinstance(row, DocumentRecord):
            meta = row.metadata
            values = (row.id, row.origin.value, row.page_count, row.signature.signed,
                      row.representation == SIGNED_ORIGINAL, meta.unit, meta.doc_type, meta.classification,
                      row.source.received_at, row.archived_at, row.disposal is not None)
        else:
            values = (row.id, row.origin.value, row.page_count, row.signed, row.representation == SIGNED_ORIGINAL,
                      row.unit or "", row.doc_type or "", row.classification, row.received_at, row.archived_at,
                      row.state is DocState.DISPOSED)
        doc_id, origin, pages, signed, issuer_signed, unit, doc_type, level, received, archived, disposed = values
        when = received or archived
        # Archived before received (clocks of two hosts apart, bad data) is no processing time at all: left out
        # of the timeliness figures rather than counted as on time.
        took = (None if received is None or archived is None or archived < received
                else self.calendar.working_seconds(received, archived))
        return Fact(doc_id, origin, pages, signed, issuer_signed, unit, doc_type,
                    Classification(level).rank >= SECRET_RANK, local_date(when) if when else None,
                    self.electronic_only(doc_type), disposed, took)

    def config(self) -> dict[str, Any]:
        return {"targets": self.targets.to_dict(), "calendar": self.calendar.describe(),
                "electronic_only_types": self.types}


def select_facts(facts: Iterable[Fact], days: DateRange, unit: str | None) -> list[Fact]:
    """The facts received within ``days`` (a fact with no receipt day only when the range is open) of ``unit``
    (folded: "van phong" is "Văn phòng")."""
    wanted = " ".join(fold(unit).split()) if unit else None
    chosen = []
    for fact in facts:
        if fact.received_day is None and (days.start or days.end):
            continue
        if fact.received_day is not None and not days.contains(fact.received_day):
            continue
        if wanted is not None and " ".join(fold(fact.unit).split()) != wanted:
            continue
        chosen.append(fact)
    return chosen


def _canonical(names: Iterable[str]) -> dict[str, str]:
    """Each name → the spelling of its kind used most often (ties: the first in order), where names of one
    kind differ only in case, diacritics or spacing ("Văn phòng", "Văn Phòng", "van phong")."""
    counts: dict[str, dict[str, int]] = {}
    for name in names:
        spellings = counts.setdefault(" ".join(fold(name).split()), {})
        spellings[name] = spellings.get(name, 0) + 1
    best = {key: min(s, key=lambda n: (-s[n], n)) for key, s in counts.items()}
    return {name: best[" ".join(fold(name).split())] for s in counts.values() for name in s}


def one_spelling(facts: Sequence[Fact]) -> list[Fact]:
    """Units and document types counted and grouped once whatever their spelling, as the ``--unit`` filter
    already matches them."""
    units, types = _canonical(f.unit for f in facts), _canonical(f.doc_type for f in facts)
    return [replace(f, unit=units[f.unit], doc_type=types[f.doc_type]) for f in facts]


def by_unit(facts: Sequence[Fact]) -> dict[str, dict[str, int]]:
    """Documents by origin and signed archival copies per unit (the first statistics' shape)."""
    units: dict[str, dict[str, int]] = {}
    for fact in sorted(facts, key=lambda f: f.unit):
        entry = units.setdefault(fact.unit, {"total": 0, "scanned": 0, "born_digital": 0, "mixed": 0, "signed": 0})
        entry["total"] += 1
        entry[fact.origin] += 1
        entry["signed"] += int(fact.signed)
    return units


def backlog(ctx: Context, actor: Actor) -> dict[str, Any] | None:
    """Inputs that did not become documents: quarantined, failed (left in the batch folder) or pending, counted
    once each (the latest journal entry of a content id; an input later archived is no longer backlog). None
    for users who do not run intake: a quarantined input has no classification to filter on."""
    if not actor.has(Role.ARCHIVIST):
        return None
    top = actor.clearance.rank >= Classification.TUYET_MAT.rank
    archived = {row.id for row in ctx.catalog.stats_rows(Classification.TUYET_MAT.rank)}
    latest: dict[tuple[str, str], tuple[datetime, DocState, str]] = {}
    names: dict[str, str] = {}
    for batch in ctx.catalog.list_batches():
        if not any(batch.counts.get(state) for state in BACKLOG_STATES):
            continue
        names[batch.id] = batch.name
        for item in ctx.catalog.batch_items(batch.id):
            if item.state not in BACKLOG_STATES or (item.doc_id and item.doc_id in archived):
                continue
            rank = item.classification_rank
            if (rank is None and not top) or (rank is not None and rank > actor.clearance.rank):
                continue  # above the reader's clearance, or unknown (only the highest clearance counts those)
            key = ("id", item.doc_id) if item.doc_id else (batch.id, item.source_path)
            seen = latest.get(key)
            if seen is None or as_utc(item.updated_at) >= seen[0]:
                latest[key] = (as_utc(item.updated_at), item.state, batch.id)
    counts = {state.value: 0 for state in BACKLOG_STATES}
    batches: dict[str, dict[str, Any]] = {}
    for _, state, batch_id in latest.values():
        counts[state.value] += 1
        entry = batches.setdefault(batch_id, {"id": batch_id, "name": names[batch_id],
                                              **{s.value: 0 for s in BACKLOG_STATES}})
        entry[state.value] += 1
    return {**counts, "total": sum(counts.values()), "batches": sorted(batches.values(), key=lambda b: b["id"]),
            "scope": "all batches, current state: not filtered by period or unit"}


def electronic_statistics(ctx: Context, actor: Actor, query: StatsQuery | None = None) -> dict[str, Any]:
    """The figures for ``actor`` (see :mod:`pipeline.app.statistics.figures`): those of the whole selection at
    the top level, one entry per group in ``groups``, the configuration used, the backlog."""
    actor.require_reader("read the statistics")
    query = query or StatsQuery()
    query.check()
    days = query.days()
    setup = Setup.from_settings(ctx.settings.stats)
    facts = one_spelling(select_facts((setup.fact(row) for row in ctx.catalog.stats_rows(actor.clearance.rank)),
                                      days, query.unit))
    return {
        "scope": {**days.to_dict(), "period": query.period, "unit": query.unit, "by": list(query.by),
                  "clearance": actor.clearance.value, "generated_at": datetime.now(UTC).isoformat()},
        "config": setup.config(),
        **figures(facts, setup.targets),
        "by_unit": by_unit(facts),
        "groups": grouped(facts, query.by, setup.targets) if query.by else [],
        "backlog": backlog(ctx, actor),
    }
