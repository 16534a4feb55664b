"""`archive retention …` (the schedule in force, what is due, recomputing it) and `archive hold …` (legal holds)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pipeline.core.hold import Hold
from pipeline.entry.cli.common import date_option, origin_option, out, print_json, session

retention_app = typer.Typer(no_args_is_help=True, help="Retention: the schedule, what is due, recomputing it.")


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


@retention_app.command("extend")
def extend(as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False) -> None:
    """Lock every permanent record again for retention.permanent_lock_years from now (locks only lengthen)."""
    from pipeline.app import retention

    with session() as (ctx, actor):
        counts = retention.extend_permanent_locks(ctx, actor)
    if as_json:
        print_json(counts)
        return
    out.print(f"{counts['documents']} permanent document(s); {counts['versions_extended']} stored version(s) "
              "locked longer")


@retention_app.command("recompute")
def recompute(dry_run: Annotated[bool, typer.Option("--dry-run", help="List the changes, write nothing.")] = False,
              as_json: Annotated[bool, typer.Option("--json", help="Print the changes as JSON.")] = False) -> None:
    """Recompute every document's class and retain-until date under the schedule in force (after a schedule
    change): a new sealed metadata version and longer storage locks where it changed (locks never shorten)."""
    from pipeline.app import reschedule

    with session() as (ctx, actor):
        report = reschedule.recompute(ctx, actor, dry_run)
    if as_json:
        print_json(report.to_dict())
        return
    verb = "would change" if dry_run else "changed"
    table = Table("id", "number", "class", "retained until", "storage lock",
                  title=f"Schedule {report.schedule}: {report.checked} document(s) checked, {len(report.changes)} "
                        f"{verb}" + (f", {len(report.failed)} failed" if report.failed else ""))
    for c in report.changes:
        old = "permanent" if c.old_permanent else str(c.old_retain_until or "(dossier open)")
        new = "permanent" if c.new_permanent else str(c.new_retain_until or "(dossier open)")
        lock = f"{c.storage_lock} until {c.lock_until:%Y-%m-%d}" if c.lock_until else c.storage_lock
        table.add_row(c.id[:12], escape(c.doc_number), f"{c.old_class} → {c.new_class}", f"{old} → {new}", lock)
    out.print(table)
    for doc_id, why in report.failed.items():
        out.print(f"{doc_id[:12]}: {escape(why)}")
    if report.lock_kept:
        out.print(f"{report.lock_kept} document(s) keep their longer storage lock: storage locks only lengthen")


@retention_app.command("review")
def review(ids: Annotated[list[str], typer.Argument(metavar="ID...", help="The due documents reviewed.")],
           decision: Annotated[str, typer.Option("--decision", help='The decision, e.g. "Quyết định số …".')],
           keep_years: Annotated[int | None, typer.Option("--keep-years", min=1, max=100,
                                                          help="Keep them this many more years.")] = None,
           permanent: Annotated[bool, typer.Option("--permanent", help="Keep them for good.")] = False,
           as_json: Annotated[bool, typer.Option("--json", help="Print the changes as JSON.")] = False) -> None:
    """Record a review decision that keeps due documents longer (to destroy them: archive disposal propose)."""
    from pipeline.app.review import review as record_review

    with session() as (ctx, actor):
        changes = record_review(ctx, actor, ids, decision, keep_years, permanent)
    if as_json:
        print_json([c.to_dict() for c in changes])
        return
    for c in changes:
        new = "permanent" if c.new_permanent else str(c.new_retain_until)
        out.print(f"{c.id[:12]} {escape(c.doc_number)}: kept until {new} (storage lock {c.storage_lock})")


hold_app = typer.Typer(no_args_is_help=True, help="Legal holds: documents that must not be destroyed.")


def _hold_dict(hold: Hold) -> dict[str, object]:
    return hold.model_dump(mode="json")


@hold_app.command("add")
def hold_add(ids: Annotated[list[str] | None, typer.Argument(metavar="[ID]...", help="Document ids or prefixes.")]
             = None,
             reason: Annotated[str, typer.Option("--reason", help="Why the documents must be kept.")] = "",
             case: Annotated[str, typer.Option("--case", help="The case, inspection or decision it serves.")] = "",
             title: Annotated[str, typer.Option("--title", help="A short title (default: the case).")] = "",
             query: Annotated[str, typer.Option("--query", help="Also hold every document this search finds.")]
             = "",
             doc_type: Annotated[str | None, typer.Option("--type", help="With --query: only this type.")] = None,
             issuer: Annotated[str | None, typer.Option(help="With --query: only this issuing body.")] = None,
             unit: Annotated[str | None, typer.Option(help="With --query: only this unit.")] = None,
             origin: Annotated[str | None, typer.Option(help="With --query: scanned, born_digital or mixed.")]
             = None,
             date_from: Annotated[str | None, typer.Option("--from", help="With --query: issued on or after.")]
             = None,
             date_to: Annotated[str | None, typer.Option("--to", help="With --query: issued on or before.")] = None,
             as_json: Annotated[bool, typer.Option("--json", help="Print the hold as JSON.")] = False) -> None:
    """Place a legal hold: the documents are never due nor destroyed, and storage refuses to delete them."""
    from pipeline.app import holds
    from pipeline.app.searching import SearchQuery

    search = SearchQuery(text=query, doc_type=doc_type, issuer=issuer, unit=unit, origin=origin_option(origin),
                         date_from=date_option(date_from, "--from"), date_to=date_option(date_to, "--to"))
    with session() as (ctx, actor):
        hold = holds.add(ctx, actor, ids or [], reason, case, title, search)
    if as_json:
        print_json(_hold_dict(hold))
        return
    out.print(f"Hold {hold.id} placed on {len(hold.documents)} document(s) ({escape(hold.case_ref)})")


@hold_app.command("release")
def hold_release(hold_id: Annotated[str, typer.Argument(metavar="HOLD_ID")],
                 reason: Annotated[str, typer.Option("--reason", help="Why the hold ends.")] = "") -> None:
    """Release a hold (the storage's hold flag is cleared where no other hold remains)."""
    from pipeline.app import holds

    with session() as (ctx, actor):
        hold = holds.release(ctx, actor, hold_id, reason)
    out.print(f"Hold {hold.id} released ({len(hold.documents)} document(s))")


@hold_app.command("list")
def hold_list(include_released: Annotated[bool, typer.Option("--all", help="Also released holds.")] = False,
              as_json: Annotated[bool, typer.Option("--json", help="Print the holds as JSON.")] = False) -> None:
    """Holds in force (what you may see of them)."""
    from pipeline.app import holds

    with session() as (ctx, actor):
        found = holds.list_holds(ctx, actor, include_released)
    if as_json:
        print_json([_hold_dict(h) for h in found])
        return
    table = Table("hold", "title", "case", "documents", "placed", "released", title=f"{len(found)} hold(s)")
    for h in found:
        table.add_row(h.id, escape(h.title), escape(h.case_ref), str(len(h.documents)), f"{h.created_at:%Y-%m-%d}",
                      f"{h.released_at:%Y-%m-%d}" if h.released_at else "")
    out.print(table)


@hold_app.command("reapply")
def hold_reapply(as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False) -> None:
    """Set the storage's hold flags again from the hold records (after a hold or release failed half-way)."""
    from pipeline.app import holds

    with session() as (ctx, actor):
        counts = holds.reapply(ctx, actor)
    if as_json:
        print_json(counts)
        return
    out.print(f"{counts['held']} held and {counts['released']} released document(s): {counts['versions']} stored "
              "version(s) flagged again")
