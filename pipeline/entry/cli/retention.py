"""`archive retention …`: the schedule in force and what is due."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pipeline.entry.cli.common import date_option, out, print_json, session

retention_app = typer.Typer(no_args_is_help=True, help="Retention: the schedule, what is due.")


@retention_app.command("schedule")
def show_schedule(as_json: Annotated[bool, typer.Option("--json", help="Print the classes as JSON.")] = False) -> None:
    """The record classes of the schedule in force (checked: a bad schedule file is an error)."""
    from pipeline.app import retention

    with session() as (ctx, actor):
        sched = retention.schedule(ctx, actor)
    rows = [{"code": c.code, "name": c.name, "period": "permanent" if c.permanent else f"{c.years} years",
             "trigger": c.trigger.value, "action": c.action.value, "doc_types": list(c.doc_types),
             "issuers": list(c.issuers), "keywords": list(c.keywords)} for c in (*sched.classes, sched.default)]
    if as_json:
        print_json({"source": sched.source, "version": sched.version, "classes": rows})
        return
    table = Table("code", "class", "period", "from", "then", title=f"Retention schedule {sched.version} "
                                                                   f"({sched.source})")
    for row in rows:
        table.add_row(row["code"], escape(row["name"]), row["period"], row["trigger"], row["action"])
    out.print(table)


@retention_app.command("due")
def due(as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
        on: Annotated[str | None, typer.Option("--on", metavar="DATE",
                                               help="Due on this day instead of today (Vietnam time).")] = None,
        ) -> None:
    """Documents whose retention has ended (never a permanent one), oldest first."""
    from pipeline.app import retention

    with session() as (ctx, actor):
        found = retention.due(ctx, actor, date_option(on, "--on"))
    if as_json:
        print_json([d.to_dict() for d in found])
        return
    table = Table("id", "number", "title", "class", "retained until", "then", title=f"{len(found)} document(s) due")
    for d in found:
        table.add_row(d.id[:12], escape(d.doc_number), escape(d.title), d.retention_class, str(d.retain_until),
                      d.action)
    out.print(table)
