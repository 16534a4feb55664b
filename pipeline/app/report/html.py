"""The HTML report: one self-contained file (Jinja2, autoescaped) with the tables and the charts inline as SVG,
their text kept as text so the numbers can be read (and searched, and checked) in the page itself."""

from __future__ import annotations

import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from pipeline.app.report import charts
from pipeline.app.report.data import Report, clearance_note, scope_rows, tables

TEMPLATES = Path(__file__).parent / "templates"
_PROLOGUE = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)  # the XML declaration and DOCTYPE before <svg>
_GENERIC_ID = re.compile(r'id="([A-Za-z][\w.]*_\d+)"')  # figure_1, axes_1, line2d_3 …: the same in every chart


def inline_svg(name: str, data: bytes) -> str:
    """matplotlib's SVG document as an element to place in HTML: its prologue dropped, its generic group ids
    prefixed with the chart's name so that ids stay unique in the page (clip paths and markers already are:
    their ids are hashes salted per chart; the labels' ids are the report's own). The template inserts it as is
    (``|safe``): matplotlib wrote it and escaped every text in it (unit names included)."""
    text = _PROLOGUE.sub("", data.decode("utf-8"), count=1).strip()
    return _GENERIC_ID.sub(lambda m: f'id="{name}-{m[1]}"', text)


def render(report: Report) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    template = env.get_template("report.html.j2")
    drawn = [(chart.name, chart.title, inline_svg(chart.name, svg)) for chart, svg in charts.render(report, "svg")]
    return template.render(report=report, t=report.t, lang=report.lang, scope=scope_rows(report),
                           clearance_note=clearance_note(report), tables=tables(report), charts=drawn)


def write(report: Report, output: Path) -> None:
    output.write_text(render(report), encoding="utf-8")
