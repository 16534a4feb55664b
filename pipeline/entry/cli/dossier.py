"""`archive dossier …`: dossiers (hồ sơ): register, close (which starts the retention counted from the closing),
show, list."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from pipeline.entry.cli.common import date_option, out, print_json, session

dossier_app = typer.Typer(no_args_is_help=True, help="Dossiers (hồ sơ): register, close, show, list.")

CODE_ARG = typer.Argument(metavar="CODE", help="The dossier code (Mã hồ sơ), e.g. G01.2010.05.")
JSON_OPT = typer.Option("--json", help="Print it as JSON.")


def _retention(view: Any) -> str:
    r = view.retention
    if not r["class"]:
        return ""
    return f"{r['class']} {r['name']}: {r['period'] or '?'} ({r['source']})"


def _summary(view: Any) -> list[tuple[str, str]]:
    return [("code", view.code), ("title", view.title or "(not registered: only its documents name it)"),
            ("state", f"closed on {view.closed_at}" if view.closed_at else "open"), ("access", view.access),
            ("retention", _retention(view)), ("dates", f"{view.start_date or '?'} – {view.end_date or '?'}"),
            ("documents", str(view.documents)), ("pages", str(view.pages))]


def _print(view: Any) -> None:
    table = Table(show_header=False, title=f"Dossier {view.code}")
    for key, value in _summary(view):
        table.add_row(key, escape(value))
    out.print(table)


@dossier_app.command("add")
def add(code: Annotated[str, CODE_ARG],
        title: Annotated[str, typer.Option("--title", help="The dossier's title (tiêu đề hồ sơ).")] = "",
        access: Annotated[str, typer.Option("--access", metavar="restricted|unrestricted",
                                            help="Access regime (chế độ sử dụng).")] = "restricted",
        start: Annotated[str | None, typer.Option("--start", metavar="DATE", help="Start date (default: the "
                                                  "issue date of its earliest document).")] = None,
        retention: Annotated[str, typer.Option("--retention", metavar="CLASS", help="A record class of the "
                                               "schedule declared for the dossier (default: derived from its "
                                               "documents).")] = "",
        as_json: Annotated[bool, JSON_OPT] = False) -> None:
    """Register a dossier (open until closed)."""
    from pipeline.app import dossiers

    with session() as (ctx, actor):
        view = dossiers.add(ctx, actor, code, title, access, date_option(start, "--start"), retention)
    if as_json:
        print_json(view.to_dict())
        return
    out.print(f"Dossier {escape(view.code)} registered ({view.documents} document(s) already name it)")


@dossier_app.command("close")
def close(code: Annotated[str, CODE_ARG],
          on: Annotated[str | None, typer.Option("--on", metavar="DATE",
                                                 help="The closing date (default: today, Vietnam time).")] = None,
          as_json: Annotated[bool, JSON_OPT] = False) -> None:
    """Close a dossier: documents whose class counts from the closing get their retain-until date."""
    from pipeline.app import dossiers

    with session() as (ctx, actor):
        view, report = dossiers.close(ctx, actor, code, date_option(on, "--on"))
    if as_json:
        print_json({**view.to_dict(), "retention": report.to_dict()})
        return
    out.print(f"Dossier {escape(view.code)} closed on {view.closed_at}: {len(report.changes)} document(s) got "
              f"their retention from it" + (f", {len(report.failed)} failed" if report.failed else ""))
    for doc_id, why in report.failed.items():
        out.print(f"  {doc_id[:12]}: {escape(why)}")


@dossier_app.command("show")
def show(code: Annotated[str, CODE_ARG], as_json: Annotated[bool, JSON_OPT] = False) -> None:
    """A dossier and its documents (those you may see)."""
    from pipeline.app import dossiers

    with session() as (ctx, actor):
        view = dossiers.show(ctx, actor, code)
    if as_json:
        print_json(view.to_dict())
        return
    _print(view)
    table = Table("no.", "id", "number", "title", "issued", "pages", "class", "retained until")
    for item in view.items:
        until = "permanent" if item["permanent"] else str(item["retain_until"] or "(dossier open)")
        table.add_row(str(item["order"] or ""), item["id"][:12], escape(item["doc_number"]), escape(item["title"]),
                      str(item["issued_date"] or ""), str(item["pages"]), item["retention_class"], until)
    out.print(table)


@dossier_app.command("list")
def list_(as_json: Annotated[bool, JSON_OPT] = False) -> None:
    """Registered dossiers, and codes documents name that nobody registered."""
    from pipeline.app import dossiers

    with session() as (ctx, actor):
        views = dossiers.list_dossiers(ctx, actor)
    if as_json:
        print_json([v.to_dict() for v in views])
        return
    table = Table("code", "title", "state", "documents", "pages", "dates", "retention",
                  title=f"{len(views)} dossier(s)")
    for v in views:
        table.add_row(escape(v.code), escape(v.title) if v.registered else "(not registered)",
                      f"closed {v.closed_at}" if v.closed_at else "open", str(v.documents), str(v.pages),
                      f"{v.start_date or '?'} – {v.end_date or '?'}", escape(_retention(v)))
    out.print(table)
