"""Electronic-document statistics the directives ask for (issue 12): figures per unit, document type and period
in Vietnam time, against configurable targets (``[stats]``), exact from the catalog and within the reader's
clearance. :func:`electronic_statistics` is the data API of `archive stats`, the report and the dashboard."""

from pipeline.app.statistics.figures import GROUPINGS, Fact, Targets, figures, grouped
from pipeline.app.statistics.periods import DateRange, parse_period, period_key, resolve_range
from pipeline.app.statistics.service import StatsQuery, backlog, electronic_statistics
from pipeline.app.statistics.tables import csv_rows, flat
from pipeline.app.statistics.workhours import WorkCalendar

__all__ = [
    "GROUPINGS",
    "DateRange",
    "Fact",
    "StatsQuery",
    "Targets",
    "WorkCalendar",
    "backlog",
    "csv_rows",
    "electronic_statistics",
    "figures",
    "flat",
    "grouped",
    "parse_period",
    "period_key",
    "resolve_range",
]
