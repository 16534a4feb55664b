"""The statistics dashboard's charts: one chart of `archive report` (:mod:`pipeline.app.report.charts`, the same
figures, drawing and labels) as an SVG document, for the web page to show as an image. matplotlib's rc settings
are process-wide, so drawings are serialised by a lock (the web server draws from several threads)."""

from __future__ import annotations

import io
import threading
from typing import Any

import matplotlib

from pipeline.app.context import Context
from pipeline.app.errors import Invalid
from pipeline.app.report import charts
from pipeline.app.report.data import ReportQuery, collect
from pipeline.core.actor import Actor

CHARTS = {"trend": charts.trend, "units": charts.units, "signed": charts.signed, "time": charts.timeliness}
_DRAWING = threading.Lock()


def chart_svg(ctx: Context, actor: Actor, name: str, query: ReportQuery) -> bytes:
    """The chart ``name`` (trend, units, signed, time) of the figures ``actor`` may see, as SVG bytes (text
    kept as text, matplotlib escapes it: unit names are untrusted)."""
    draw = CHARTS.get(name)
    if draw is None:
        raise Invalid(f"unknown chart {name!r}: expected one of {', '.join(CHARTS)}")
    report = collect(ctx, actor, query)
    options: dict[str, Any] = {"metadata": {"Date": None}}
    with _DRAWING, matplotlib.rc_context(charts._rc(f"dashboard-{name}")):
        chart = draw(report)
        buffer = io.BytesIO()
        chart.figure.savefig(buffer, format="svg", facecolor="white", **options)
    return buffer.getvalue()
