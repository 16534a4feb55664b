"""`archive disposal …`: propose documents whose retention has ended, approve the list with the decision and
the appraisal council, execute it (content destroyed, a signed disposal record archived), list and show."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pipeline.core.disposal import Proposal
from pipeline.entry.cli.common import out, print_json, session

disposal_app = typer.Typer(no_args_is_help=True, help="Disposal: propose, approve, execute the destruction of "
                                                      "documents whose retention has ended.")
JSON = Annotated[bool, typer.Option("--json", help="Print the proposal as JSON.")]
PROPOSAL = Annotated[str, typer.Argument(metavar="PROPOSAL", help="The proposal id (P-…).")]


def _print(proposal: Proposal, as_json: bool) -> None:
    if as_json:
        print_json(proposal.model_dump(mode="json"))
        return
    title = f"Proposal {proposal.id}: {proposal.state.value}, {len(proposal.items)} document(s)"
    table = Table("id", "number", "title", "class", "retained until", "outcome", title=title)
    for item in proposal.items:
        outcome = item.outcome.value or "-"
        if item.outcome_reason:
            outcome += f": {item.outcome_reason}"
        table.add_row(item.id[:12], escape(item.doc_number), escape(item.title), item.retention_class,
                      str(item.retain_until or ""), escape(outcome))
    out.print(table)
    records = ", ".join(proposal.disposal_records)
    for label, value in (("decision", proposal.decision), ("council", proposal.council),
                         ("approved by", proposal.approved_by), ("disposal record", records),
                         ("failure", proposal.failure)):
        if value:
            out.print(f"{label}: {escape(value)}")


@disposal_app.command("propose")
def propose(ids: Annotated[list[str] | None, typer.Argument(metavar="[ID]...", help="Document ids or prefixes.")]
            = None,
            from_due: Annotated[bool, typer.Option("--from-due", help="Every due document whose class ends in "
                                                                     "destruction.")] = False,
            note: Annotated[str, typer.Option("--note", help="A note for the council.")] = "",
            as_json: JSON = False) -> None:
    """List documents whose retention has ended for the appraisal council (nothing is destroyed yet)."""
    from pipeline.app import disposal

    if not ids and not from_due:
        raise typer.BadParameter("give document ids or --from-due")
    with session() as (ctx, actor):
        proposal = disposal.propose(ctx, actor, ids or [], from_due=from_due, note=note)
    _print(proposal, as_json)


@disposal_app.command("approve")
def approve(proposal_id: PROPOSAL,
            decision: Annotated[str, typer.Option("--decision", help='The approving decision, e.g. '
                                                                     '"Quyết định số 12/QĐ-VP ngày …".')],
            council: Annotated[str, typer.Option("--council", help="Members of the appraisal council.")],
            exclude: Annotated[list[str] | None, typer.Option(
                "--exclude", metavar="ID", help="A document the council keeps (repeat for several).")] = None,
            as_json: JSON = False) -> None:
    """Record the decision approving the proposal (a records officer)."""
    from pipeline.app import disposal

    with session() as (ctx, actor):
        proposal = disposal.approve(ctx, actor, proposal_id, decision, council, exclude or [])
    _print(proposal, as_json)


@disposal_app.command("reject")
def reject(proposal_id: PROPOSAL,
           reason: Annotated[str, typer.Option("--reason", help="Why the proposal is turned down.")] = "",
           as_json: JSON = False) -> None:
    """Turn down a pending or approved proposal: nothing is destroyed."""
    from pipeline.app import disposal

    with session() as (ctx, actor):
        proposal = disposal.reject(ctx, actor, proposal_id, reason)
    _print(proposal, as_json)


@disposal_app.command("execute")
def execute(proposal_id: PROPOSAL, as_json: JSON = False) -> None:
    """Destroy the approved proposal's documents and archive the signed disposal record."""
    from pipeline.app import disposal

    with session() as (ctx, actor):
        proposal = disposal.execute(ctx, actor, proposal_id)
    _print(proposal, as_json)
    if proposal.state.value != "executed":
        raise typer.Exit(1)


@disposal_app.command("show")
def show(proposal_id: PROPOSAL, as_json: JSON = False) -> None:
    """One proposal with each document's outcome."""
    from pipeline.app import disposal

    with session() as (ctx, actor):
        proposal = disposal.get(ctx, actor, proposal_id)
    _print(proposal, as_json)


@disposal_app.command("list")
def list_proposals(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """Every proposal you may see (all its documents within your clearance)."""
    from pipeline.app import disposal

    with session() as (ctx, actor):
        found = disposal.list_proposals(ctx, actor)
    if as_json:
        print_json([p.model_dump(mode="json") for p in found])
        return
    table = Table("proposal", "state", "documents", "created", "decision", title=f"{len(found)} proposal(s)")
    for p in found:
        table.add_row(p.id, p.state.value, str(len(p.items)), f"{p.created_at:%Y-%m-%d} {escape(p.created_by)}",
                      escape(p.decision))
    out.print(table)
