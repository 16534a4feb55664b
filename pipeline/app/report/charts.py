"""The report's four charts, drawn with matplotlib (Agg, no GUI, no pyplot state): the monthly trend of the
scanned and born-digital shares against the scanned-share target, documents by origin per unit, the
issuer-signed share per unit against its target, and timeliness per month (share within the deadline; median
and p90 working hours).

Every bar and point carries its number as a label, formatted as the report's tables write it, and every label
has an id (``trend-scanned-0``, ``units-born_digital-1``, ``signed-0``, ``ontime-2``, ``median-0``, ``p90-0``:
series, then the index of the month or unit in the figures' order), so a reader or a test finds it in the SVG,
where text stays text (``svg.fonttype = none``). Labels are in the report's language, in a Vietnamese-capable
font (the signature stamp's: DejaVu Sans or Noto Sans)."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from pipeline.app.errors import AppError
from pipeline.app.report.data import ORIGINS, Report, born_share, hours, month_label, pct
from pipeline.core.fonts import REGULAR_FONTS

matplotlib.use("Agg")  # no GUI: figures are drawn off-screen (importing matplotlib.figure chooses no backend)

COLOURS = {"scanned": "#c0392b", "born_digital": "#2e86c1", "mixed": "#f39c12", "target": "#555555",
           "met": "#27ae60", "missed": "#c0392b", "median": "#2e86c1", "p90": "#8e44ad"}
SIZE = (8.0, 4.2)  # inches


@dataclass(frozen=True)
class Chart:
    name: str  # trend, units, signed, time
    title: str
    figure: Figure


GLYPHS = "ăâđêôơưĂÂĐÊÔƠƯạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ≥–…«»"  # what the report writes


@lru_cache(maxsize=1)
def font_path() -> Path:
    """The first of the signature stamp's Vietnamese-capable fonts that has every glyph the report writes (Noto
    Sans has no ≥; DejaVu Sans has), else the first one found."""
    from fontTools.ttLib import TTFont

    found = [Path(c) for c in REGULAR_FONTS if Path(c).is_file()]
    if not found:
        raise AppError("no Vietnamese-capable TrueType font for the report (install fonts-dejavu-core)")
    for path in found:
        with TTFont(path, lazy=True) as font:
            cmap = font.getBestCmap() or {}
        if all(ord(c) in cmap for c in GLYPHS):
            return path
    return found[0]


@lru_cache(maxsize=1)
def font_family() -> str:
    """Register the report's font with matplotlib; its family name."""
    font_manager.fontManager.addfont(str(font_path()))
    return font_manager.FontProperties(fname=font_path()).get_name()


def _rc(salt: str) -> dict[str, Any]:
    return {"font.family": "sans-serif", "font.sans-serif": [font_family(), "DejaVu Sans"], "font.size": 9,
            "svg.fonttype": "none", "svg.hashsalt": salt, "text.parse_math": False, "axes.spines.top": False,
            "axes.spines.right": False}


def _label(ax: Axes, x: float, y: float, text: str, gid: str, colour: str = "#222222", above: bool = True) -> None:
    note = ax.annotate(text, (x, y), xytext=(0, 3 if above else -10), textcoords="offset points", ha="center",
                       va="bottom", fontsize=8, color=colour)
    note.set_gid(gid)


def _no_data(ax: Axes, report: Report) -> None:
    ax.text(0.5, 0.5, report.t("no_data"), ha="center", va="center", transform=ax.transAxes, color="#777777")
    ax.set_xticks([])


def _share_axis(ax: Axes, report: Report) -> None:
    ax.set_ylim(0, 115)
    ax.set_ylabel(report.t("share_axis"))
    ax.set_yticks([0, 25, 50, 75, 100])


def _ticks(ax: Axes, labels: Sequence[str]) -> None:
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels([textwrap.fill(label, 18) for label in labels])
    ax.set_xlim(-0.6, len(labels) - 0.4)


def _percent(value: float | None) -> float:
    return 0.0 if value is None else value * 100


def trend(report: Report) -> Chart:
    """Scanned and born-digital shares per month, against the scanned-share target."""
    fig = Figure(figsize=SIZE, layout="constrained")
    ax = fig.add_subplot()
    months = report.months
    target = report.total["config"]["targets"]["scanned_share_max"]
    ax.axhline(target * 100, color=COLOURS["target"], linestyle="--", linewidth=1,
               label=report.t("goal_scanned", pct=pct(target, report.lang)))
    if not months:
        _no_data(ax, report)
    series: list[tuple[str, str, Callable[[dict[str, Any]], float | None]]] = [
        ("scanned", report.t("scanned_share"), lambda g: g["targets"]["scanned_share"]["value"]),
        ("born_digital", report.t("born_share"), born_share)]
    for name, title, value in series:
        if not months:
            break
        values = [value(g) for g in months]
        ax.plot(range(len(months)), [_percent(v) for v in values], marker="o", color=COLOURS[name], label=title)
        for i, v in enumerate(values):
            _label(ax, i, _percent(v), pct(v, report.lang), f"trend-{name}-{i}", COLOURS[name],
                   above=name == "born_digital" or (v or 0) < 0.1)
    if months:
        _ticks(ax, [month_label(g["key"]["month"], report.lang) for g in months])
    _share_axis(ax, report)
    ax.legend(loc="upper left", fontsize=8, ncols=3, frameon=False)
    return Chart("trend", report.t("c_trend"), fig)


def units(report: Report) -> Chart:
    """Documents by origin per unit, grouped bars."""
    fig = Figure(figsize=SIZE, layout="constrained")
    ax = fig.add_subplot()
    groups = report.units
    if not groups:
        _no_data(ax, report)
    width = 0.26
    top = max((g["documents"][o] for g in groups for o in ORIGINS), default=0)
    for k, origin in enumerate(ORIGINS):
        if not groups:
            break
        counts = [g["documents"][origin] for g in groups]
        xs = [i + (k - 1) * width for i in range(len(groups))]
        ax.bar(xs, counts, width, color=COLOURS[origin], label=report.t(origin))
        for i, (x, count) in enumerate(zip(xs, counts, strict=True)):
            _label(ax, x, count, str(count), f"units-{origin}-{i}")
    if groups:
        _ticks(ax, [report.unit_name(g) for g in groups])
    ax.set_ylim(0, max(top, 1) * 1.25)
    ax.set_ylabel(report.t("count_axis"))
    ax.yaxis.get_major_locator().set_params(integer=True)
    if groups:
        ax.legend(loc="upper left", fontsize=8, ncols=3, frameon=False)
    return Chart("units", report.t("c_units"), fig)


def signed(report: Report) -> Chart:
    """The issuer-signed share per unit against the signed-share target (green met, red missed)."""
    fig = Figure(figsize=SIZE, layout="constrained")
    ax = fig.add_subplot()
    groups = report.units
    target = report.total["config"]["targets"]["signed_share_min"]
    ax.axhline(target * 100, color=COLOURS["target"], linestyle="--", linewidth=1,
               label=report.t("goal_signed", pct=pct(target, report.lang)))
    if not groups:
        _no_data(ax, report)
    else:
        values = [g["targets"]["signed_share"]["value"] for g in groups]
        colours = [COLOURS["met" if g["targets"]["signed_share"]["met"] else "missed"] for g in groups]
        ax.bar(range(len(groups)), [_percent(v) for v in values], 0.5, color=colours)
        for i, v in enumerate(values):
            _label(ax, i, _percent(v), pct(v, report.lang), f"signed-{i}")
        _ticks(ax, [report.unit_name(g) for g in groups])
    _share_axis(ax, report)
    units_ = report.total["units"]
    ax.set_title(f"{report.t('units_signing')}: {report.t('of', part=units_['signing'], whole=units_['count'])}",
                 fontsize=9)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return Chart("signed", report.t("c_signed"), fig)


def timeliness(report: Report) -> Chart:
    """Per month: the share archived within the deadline (bars, against its target), and the median and p90
    working hours from receipt to archived (points)."""
    fig = Figure(figsize=(SIZE[0], SIZE[1] + 0.4), layout="constrained")
    left, right = fig.subplots(1, 2)
    months, lang = report.months, report.lang
    config = report.total["config"]["targets"]
    left.axhline(config["on_time_share_min"] * 100, color=COLOURS["target"], linestyle="--", linewidth=1,
                 label=report.t("goal_time", pct=pct(config["on_time_share_min"], lang)))
    left.set_title(report.t("on_time_title", hours=f"{config['deadline_hours']:g}"), fontsize=9)
    right.set_title(report.t("hours_title"), fontsize=9)
    if not months:
        _no_data(left, report)
        _no_data(right, report)
    else:
        labels = [month_label(g["key"]["month"], lang) for g in months]
        shares = [g["targets"]["on_time_share"]["value"] for g in months]
        colours = [COLOURS["met" if g["targets"]["on_time_share"]["met"] else "missed"] for g in months]
        left.bar(range(len(months)), [_percent(v) for v in shares], 0.5, color=colours)
        for i, v in enumerate(shares):
            _label(left, i, _percent(v), pct(v, lang), f"ontime-{i}")
        _ticks(left, labels)
        top = 0.0
        for name in ("median", "p90"):
            values = [g["processing"][f"{name}_s"] for g in months]
            points = [None if v is None else v / 3600 for v in values]
            top = max([top, *(p for p in points if p is not None)])
            right.plot(range(len(months)), [float("nan") if p is None else p for p in points], marker="o",
                       color=COLOURS[name], label=report.t(name))
            for i, (v, p) in enumerate(zip(values, points, strict=True)):
                _label(right, i, p or 0.0, hours(v, lang), f"{name}-{i}", COLOURS[name], above=name == "p90")
        _ticks(right, labels)
        right.set_ylim(0, max(top, 1.0) * 1.3)
        right.legend(loc="upper left", fontsize=8, ncols=2, frameon=False)
    _share_axis(left, report)
    right.set_ylabel(report.t("hours_axis"))
    left.legend(loc="upper left", fontsize=8, frameon=False)
    return Chart("time", report.t("c_time"), fig)


DRAWERS = (trend, units, signed, timeliness)


def render(report: Report, fmt: str) -> list[tuple[Chart, bytes]]:
    """Every chart as SVG (text kept as text) or PNG (150 dpi, white background)."""
    rendered = []
    for draw in DRAWERS:
        salt = f"report-{draw.__name__}"
        with matplotlib.rc_context(_rc(salt)):
            chart = draw(report)
            buffer = io.BytesIO()
            options: dict[str, Any] = {"metadata": {"Date": None}} if fmt == "svg" else {"dpi": 150}
            chart.figure.savefig(buffer, format=fmt, facecolor="white", **options)
        rendered.append((chart, buffer.getvalue()))
    return rendered
