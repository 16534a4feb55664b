"""`archive stats`: the directives' electronic-document figures, per unit, type and period, against the targets
(what the acting user may see). A terminal table, or the same numbers as JSON or CSV."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from pipeline.core.csv_safe import dict_writer
from pipeline.entry.cli.common import CliError, date_option, out, print_json, session


class By(StrEnum):
    unit = "unit"
    type = "type"
    month = "month"
    quarter = "quarter"
    year = "year"


def stats(
    by: Annotated[list[By] | None, typer.Option(
        "--by", case_sensitive=False, metavar="unit|type|month|quarter|year", help=(
        "Group by unit, type (document type), month, quarter or year of receipt (Vietnam time); repeat to "
        "combine, e.g. --by unit --by month."))] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="Received on or after this day (Vietnam time).")
                         ] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Received on or before this day (Vietnam time).")
                       ] = None,
    period: Annotated[str | None, typer.Option("--period", help=(
        "Received in this year (2026), quarter (2026-Q4) or month (2026-11); instead of --from/--to."))] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Only this unit (diacritics and case ignored).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the figures as CSV: a total row, then one per group."
                                         )] = False,
) -> None:
    """Documents and pages by origin, scanned, signed and electronic shares against their targets, paper copies
    of electronic-only types, processing time in working hours, backlog (what you may see)."""
    from pipeline.app.statistics import StatsQuery, csv_rows, electronic_statistics

    if as_json and as_csv:
        raise CliError("give --json or --csv, not both")
    query = StatsQuery(by=tuple(b.value for b in by or []), period=period, unit=unit,
                       date_from=date_option(date_from, "--from"), date_to=date_option(date_to, "--to"))
    with session() as (ctx, actor):
        data = electronic_statistics(ctx, actor, query)
    if as_json:
        print_json(data)
    elif as_csv:
        rows = csv_rows(data)
        # Unit and type names come from manifests: text a spreadsheet would run is neutralised (csv_safe).
        writer = dict_writer(sys.stdout, list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        _print(data)


def _share(target: dict[str, Any]) -> str:
    if target["value"] is None:
        return "–"
    colour = "green" if target["met"] else "red"
    return f"[{colour}]{target['value']:.1%}[/]"


def _hours(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes = round(seconds / 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def _paper(fig: dict[str, Any]) -> str:
    count = fig["targets"]["electronic_only_on_paper"]["value"]
    return f"[{'green' if count == 0 else 'red'}]{count}[/]"


def _origins(fig: dict[str, Any]) -> list[str]:
    docs, pages = fig["documents"], fig["pages"]
    return [f"{docs[o]} ({pages[o]})" for o in ("scanned", "born_digital", "mixed", "total")]


def _against(fig: dict[str, Any]) -> list[str]:
    targets = fig["targets"]
    return [_share(targets["scanned_share"]), _share(targets["signed_share"]), _share(targets["electronic_share"]),
            _paper(fig)]


def _timeliness(fig: dict[str, Any]) -> list[str]:
    processing = fig["processing"]
    return [str(processing["count"]), _share(fig["targets"]["on_time_share"]), _hours(processing["median_s"]),
            _hours(processing["p90_s"])]


def _table(data: dict[str, Any], title: str, columns: list[str], cells: Any) -> Table:
    """One row per group, then the total (the key columns first; narrow enough for an 80-column terminal)."""
    by = data["scope"]["by"]
    table = Table(*by, *columns, title=title)
    blank = {"unit": "(no unit)", "type": "(no type)"}
    for group in data["groups"]:
        table.add_row(*(escape(group["key"][k] or blank.get(k, "?")) for k in by), *cells(group))
    table.add_row(*(["[bold]total[/]"] + [""] * (len(by) - 1) if by else []), *cells(data))
    return table


def _print(data: dict[str, Any]) -> None:
    scope, config = data["scope"], data["config"]["targets"]
    where = [f"{scope['from'] or '…'} to {scope['to'] or '…'}" if scope["from"] or scope["to"] else "all time"]
    if scope["unit"]:
        where.append(f"unit {scope['unit']}")
    out.print(f"[bold]Electronic-document statistics[/]: {escape(', '.join(where))}; by receipt, Vietnam time")
    out.print(_table(data, "Documents (pages) by origin", ["scanned", "born digital", "mixed", "total"], _origins))
    columns = [f"scanned\n< {config['scanned_share_max']:.0%}", f"signed\n≥ {config['signed_share_min']:.0%}",
               f"electronic\n≥ {config['electronic_exchange_min']:.0%}", "e-only on\npaper = 0"]
    out.print(_table(data, "Against the targets", columns, _against))
    columns = ["archived", f"within {config['deadline_hours']:g} h\n≥ {config['on_time_share_min']:.0%}",
               "median\nh:mm", "p90\nh:mm"]
    out.print(_table(data, "Processing time (working hours, receipt to archived)", columns, _timeliness))
    out.print("signed: by the issuer; electronic: received born digital, secret documents excluded; e-only: types "
              "that must be electronic, received on paper (scanned or mixed)")
    units, signed = data["units"], data["signed"]
    out.print(f"Units that sign: {units['signing']} of {units['count']}; archival copies signed: {signed['count']} "
              f"of {data['documents']['total']}; destroyed (counted as history): {data['disposed']}")
    backlog = data["backlog"]
    if backlog is not None:
        out.print(f"Backlog: {backlog['quarantined']} quarantined, {backlog['failed']} failed, "
                  f"{backlog['pending']} pending")
