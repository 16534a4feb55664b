"""Disposal proposals in the records office's pages: the list, one proposal with each document's outcome, and
its forms: approve (the decision, the appraisal council, the documents the council keeps), reject (with the
reason), execute (destroys the approved documents and archives the signed disposal record, linked from the
page). The use cases check the role, the clearance (a proposal with a document above it is the 404 page), the
proposal's state and the approval's seal, and audit every step."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path as PathParam
from fastapi import Request
from fastapi.responses import Response

from pipeline.app import disposal
from pipeline.app.errors import Invalid
from pipeline.core.disposal import ItemOutcome, Proposal, ProposalState
from pipeline.entry.api.auth import Caller
from pipeline.entry.api.common import IdPattern, call, context
from pipeline.entry.web.auth import PageCaller
from pipeline.entry.web.records_pages import Done, checked, done_note, field, officer, redirect, vn_time
from pipeline.entry.web.render import render
from pipeline.entry.web.routing import page_router

router = page_router()
ProposalId = Annotated[str, PathParam(pattern=IdPattern)]
RESULTS = ("proposed", "approved", "rejected", "executed")


@router.get("/records/disposals")
def proposals_page(request: Request, who: PageCaller) -> Response:
    officer(who, "list disposal proposals")
    found = sorted(disposal.list_proposals(context(request), who.actor), key=lambda p: p.created_at, reverse=True)
    return render(request, "records_disposals.html", who=who, proposals=found, vn=vn_time, tab="disposals",
                  error="")


def _counts(proposal: Proposal) -> dict[str, int]:
    return {state: sum(1 for i in proposal.items if i.outcome == outcome) for state, outcome in
            (("destroyed", ItemOutcome.DESTROYED), ("skipped", ItemOutcome.SKIPPED), ("failed", ItemOutcome.FAILED))}


def _proposal_page(request: Request, who: Caller, proposal_id: str, done: str | None = None,
                   error: str = "") -> Response:
    officer(who, "read disposal proposals")
    proposal = disposal.get(context(request), who.actor, proposal_id)
    state = proposal.state
    return render(request, "records_disposal.html", status=400 if error else 200, who=who, p=proposal,
                  done=done_note(done, RESULTS), counts=_counts(proposal), error=error, vn=vn_time, tab="disposals",
                  can_approve=state == ProposalState.PENDING,
                  can_reject=state in (ProposalState.PENDING, ProposalState.APPROVED),
                  can_execute=state in (ProposalState.APPROVED, ProposalState.FAILED))


@router.get("/records/disposals/{proposal_id}")
def proposal_page(request: Request, who: PageCaller, proposal_id: ProposalId, done: Done = None) -> Response:
    return _proposal_page(request, who, proposal_id, done)


async def _act(request: Request, who: Caller, proposal_id: str, result: str, action: str) -> Response:
    """Run one state change of the proposal from its form; a refusal (its state, a missing field) is shown on
    the proposal's page with the reason."""
    officer(who, f"{action} disposals")
    form = await request.form()
    ctx = context(request)
    try:
        if action == "approve":
            await call(disposal.approve, ctx, who.actor, proposal_id, field(form, "decision"),
                       field(form, "council"), checked(form, "exclude"))
        elif action == "reject":
            await call(disposal.reject, ctx, who.actor, proposal_id, field(form, "reason"))
        else:
            await call(disposal.execute, ctx, who.actor, proposal_id)
    except Invalid as exc:
        return await call(_proposal_page, request, who, proposal_id, None, str(exc))
    return redirect(f"/records/disposals/{proposal_id}?done={result}")


@router.post("/records/disposals/{proposal_id}/approve")
async def approve(request: Request, who: PageCaller, proposal_id: ProposalId) -> Response:
    """Record the approving decision and the appraisal council; ticked documents are kept (excluded)."""
    return await _act(request, who, proposal_id, "approved", "approve")


@router.post("/records/disposals/{proposal_id}/reject")
async def reject(request: Request, who: PageCaller, proposal_id: ProposalId) -> Response:
    return await _act(request, who, proposal_id, "rejected", "reject")


@router.post("/records/disposals/{proposal_id}/execute")
async def execute(request: Request, who: PageCaller, proposal_id: ProposalId) -> Response:
    """Destroy the approved documents and archive the signed disposal record (a failed run may be repeated)."""
    return await _act(request, who, proposal_id, "executed", "execute")
