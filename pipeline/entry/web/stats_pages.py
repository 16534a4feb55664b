"""The statistics dashboard: the figures of `archive stats` (:func:`electronic_statistics`, within the caller's
clearance) for a period, a unit and a grouping, as an HTML table, with charts of `archive report` served as SVG
images (an SVG loaded by ``<img>`` runs no script; its response has its own CSP anyway)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import Response

from pipeline.app import dashboard
from pipeline.app.report.data import ReportQuery, pct
from pipeline.app.statistics import StatsQuery, electronic_statistics
from pipeline.entry.api.common import Short, context
from pipeline.entry.web.auth import PageCaller
from pipeline.entry.web.render import lang_of, render
from pipeline.entry.web.routing import page_router

router = page_router()
GROUPS = ("unit", "type", "month", "quarter", "year")
Group = Literal["", "unit", "type", "month", "quarter", "year"]
SHOWN_CHARTS = ("units", "trend")
# The SVG is matplotlib's: a <style> element and style attributes, no script. As an image it runs nothing;
# opened on its own, this policy still forbids scripts, plugins, external loads and framing.
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"


def _row(label: str, fig: dict[str, Any], lang: str) -> dict[str, Any]:
    docs = fig["documents"]
    targets = fig["targets"]
    return {"label": label, "scanned": docs["scanned"], "born_digital": docs["born_digital"], "mixed": docs["mixed"],
            "total": docs["total"], "pages": fig["pages"]["total"],
            "scanned_share": pct(targets["scanned_share"]["value"], lang),
            "signed_share": pct(targets["signed_share"]["value"], lang),
            "on_time_share": pct(targets["on_time_share"]["value"], lang)}


def _label(key: dict[str, Any]) -> str:
    return " · ".join(str(v) for v in key.values() if v not in (None, "")) or "–"


@router.get("/stats")
def stats_page(request: Request, who: PageCaller, period: Annotated[Short | None, Query()] = None,
               unit: Annotated[Short | None, Query()] = None, by: Annotated[Group, Query()] = "") -> Response:
    lang = lang_of(request)
    period, unit = (period or "").strip() or None, (unit or "").strip() or None
    data = electronic_statistics(context(request), who.actor,
                                 StatsQuery(by=(by,) if by else (), period=period, unit=unit))
    rows = [_row(_label(g["key"]), g, lang) for g in data["groups"]]
    query = urlencode({k: v for k, v in {"period": period, "unit": unit}.items() if v})
    chart_urls = [(name, f"/stats/chart.svg?{urlencode({'name': name})}{'&' + query if query else ''}")
                  for name in SHOWN_CHARTS]
    units = sorted(data["by_unit"]) if isinstance(data.get("by_unit"), dict) else []
    return render(request, "stats.html", who=who, period=period or "", unit=unit or "", by=by, groups=GROUPS,
                  rows=rows, total=_row("", data, lang), charts=chart_urls, units=units,
                  report_pdf=_report(lang, "pdf", query), report_html=_report(lang, "html", query))


def _report(lang: str, fmt: str, query: str) -> str:
    """The link to the report of what the page shows (GET /api/v1/reports, the session cookie suffices)."""
    return f"/api/v1/reports?{urlencode({'format': fmt, 'lang': lang})}{'&' + query if query else ''}"


@router.get("/stats/chart.svg")
def stats_chart(request: Request, who: PageCaller, name: Literal["trend", "units", "signed", "time"] = "units",
                period: Annotated[Short | None, Query()] = None,
                unit: Annotated[Short | None, Query()] = None) -> Response:
    query = ReportQuery(period=(period or "").strip() or None, unit=(unit or "").strip() or None,
                        lang=lang_of(request))
    svg = dashboard.chart_svg(context(request), who.actor, name, query)
    return Response(svg, media_type="image/svg+xml",
                    headers={"Content-Security-Policy": SVG_CSP, "Cache-Control": "private, no-store"})
