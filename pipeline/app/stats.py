"""Electronic-document statistics: the thin face kept for its callers. The figures live in
:mod:`pipeline.app.statistics` (periods, working hours, targets, grouping)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pipeline.app.context import Context
from pipeline.app.statistics import StatsQuery, electronic_statistics, figures
from pipeline.app.statistics.service import Setup, by_unit, one_spelling
from pipeline.catalog.rows import StatsRow
from pipeline.core.actor import Actor
from pipeline.core.record import DocumentRecord
from pipeline.core.settings import StatsSettings

SCANNED_SHARE_TARGET = StatsSettings().scanned_share_max  # Directive: scanned images < 50% of electronic documents


def archive_stats(ctx: Context, actor: Actor, query: StatsQuery | None = None) -> dict[str, Any]:
    """The figures for what ``actor`` may see (documents above the actor's clearance are not counted, and their
    units do not appear)."""
    return electronic_statistics(ctx, actor, query)


def compute_stats(records: Iterable[DocumentRecord | StatsRow], settings: StatsSettings | None = None
                  ) -> dict[str, Any]:
    """The figures of the whole of ``records`` (records or catalog rows), without grouping or backlog."""
    setup = Setup.from_settings(settings or StatsSettings())
    facts = one_spelling([setup.fact(r) for r in records])
    return {**figures(facts, setup.targets), "by_unit": by_unit(facts)}
