"""The records office: the audit trail, legal holds, what is due, disposal proposals. The roles are checked by
the application layer (a records officer or an admin; anyone else 403), each answer stays within the caller's
clearance. A state change the object's current state refuses (approve an executed proposal, release a
released hold) is 409; a malformed request is 422."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field

from pipeline.app import disposal, holds, retention
from pipeline.app.audit_queries import list_events
from pipeline.app.context import Context
from pipeline.app.errors import Invalid
from pipeline.app.searching import SearchQuery
from pipeline.core.dates import day_bound
from pipeline.entry.api.auth import ActorDep
from pipeline.entry.api.common import (
    LIST_PAGE_SIZE,
    DayParam,
    DocRef,
    IdPattern,
    Line,
    PageNo,
    PageSize,
    Required,
    Short,
    context,
    day,
    paginate,
)
from pipeline.entry.api.errors import Conflict, ErrorBody

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (401, 403, 404, 409, 422)}
router = APIRouter(prefix="/api/v1", responses=ERRORS)
Ctx = Annotated[Context, Depends(context)]
HoldId = Annotated[str, PathParam(pattern=IdPattern, description="The hold's id (H-…).")]
ProposalId = Annotated[str, PathParam(pattern=IdPattern, description="The proposal's id (P-…).")]
DocList = Annotated[list[DocRef], Field(max_length=5000)]


def _conflict(action: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a state change whose request was validated already: what the application layer still refuses is the
    object's state (409)."""
    try:
        return action(*args, **kwargs)
    except Invalid as exc:
        raise Conflict(str(exc).strip().splitlines()[0]) from None


# ---- audit ------------------------------------------------------------------------------------------------
def _bound(value: str | None, name: str, end: bool) -> datetime | None:
    found = day(value, name)
    return None if found is None else day_bound(found, end)


@router.get("/audit", tags=["audit"])
def audit(ctx: Ctx, who: ActorDep,
          object_id: Annotated[Short | None, Query(alias="object", description="Events about this object.")] = None,
          actor_name: Annotated[Short | None, Query(alias="actor", description="Events by this user.")] = None,
          date_from: Annotated[DayParam, Query(alias="from", description="From this day (Vietnam time).")] = None,
          date_to: Annotated[DayParam, Query(alias="to", description="To this day, included.")] = None,
          page: PageNo = 1, page_size: PageSize = LIST_PAGE_SIZE) -> dict[str, Any]:
    """Audit events, newest first (who did what, when, with what outcome)."""
    events = list_events(ctx, who, object_id or None, actor_name or None, _bound(date_from, "from", False),
                         _bound(date_to, "to", True), limit=None)
    return paginate(events[::-1], page, page_size)


# ---- holds ------------------------------------------------------------------------------------------------
class HoldQuery(BaseModel):
    """Also hold every document this search finds (within your clearance)."""

    text: Required
    doc_type: Short | None = None
    issuer: Short | None = None
    unit: Short | None = None
    origin: Literal["scanned", "born_digital", "mixed"] | None = None
    date_from: DayParam = None
    date_to: DayParam = None


class HoldIn(BaseModel):
    documents: DocList = []
    query: HoldQuery | None = None
    reason: Required
    case: Required
    title: Short = ""


class ReasonIn(BaseModel):
    reason: Required


@router.get("/holds", tags=["holds"])
def list_holds(ctx: Ctx, who: ActorDep,
               include_released: Annotated[bool, Query(alias="all", description="Also released holds.")] = False,
               page: PageNo = 1, page_size: PageSize = LIST_PAGE_SIZE) -> dict[str, Any]:
    """Legal holds (those in force; all=true adds released ones), each with the documents you may see."""
    found = holds.list_holds(ctx, who, include_released)
    return paginate([h.model_dump(mode="json") for h in found], page, page_size)


@router.post("/holds", status_code=201, tags=["holds"])
def add_hold(ctx: Ctx, who: ActorDep, body: HoldIn) -> dict[str, Any]:
    """Place a legal hold on documents (ids and/or a search): never due, never destroyed, and storage's
    legal-hold flag set on every stored version."""
    q = body.query
    search = SearchQuery(text="") if q is None else SearchQuery(
        text=q.text, doc_type=q.doc_type, issuer=q.issuer, unit=q.unit, origin=q.origin,
        date_from=day(q.date_from, "query.date_from"), date_to=day(q.date_to, "query.date_to"))
    hold = holds.add(ctx, who, list(body.documents), body.reason, body.case, body.title, search)
    return hold.model_dump(mode="json")


@router.post("/holds/{hold_id}/release", tags=["holds"])
def release_hold(ctx: Ctx, who: ActorDep, hold_id: HoldId, body: ReasonIn) -> dict[str, Any]:
    """Release a hold (storage's flag is cleared where no other hold remains)."""
    hold = _conflict(holds.release, ctx, who, hold_id, body.reason)
    return hold.model_dump(mode="json")


# ---- retention --------------------------------------------------------------------------------------------
@router.get("/retention/due", tags=["retention"])
def due(ctx: Ctx, who: ActorDep,
        on: Annotated[DayParam, Query(description="Due on this day instead of today (Vietnam time).")] = None,
        page: PageNo = 1, page_size: PageSize = LIST_PAGE_SIZE) -> dict[str, Any]:
    """Documents whose retention has ended (never a permanent or held one), oldest first."""
    found = retention.due(ctx, who, day(on, "on"))
    return paginate([d.to_dict() for d in found], page, page_size)


# ---- disposals --------------------------------------------------------------------------------------------
class ProposeIn(BaseModel):
    documents: DocList = []
    from_due: bool = False
    note: Line = ""


class ApproveIn(BaseModel):
    decision: Required
    council: Required
    exclude: DocList = []


def _proposal(found: Any) -> dict[str, Any]:
    return jsonable_encoder(found.model_dump(mode="json"))


@router.get("/disposals", tags=["disposals"])
def list_disposals(ctx: Ctx, who: ActorDep, page: PageNo = 1, page_size: PageSize = LIST_PAGE_SIZE
                   ) -> dict[str, Any]:
    """Disposal proposals you may see (all their documents within your clearance), newest first."""
    found = sorted(disposal.list_proposals(ctx, who), key=lambda p: p.created_at, reverse=True)
    return paginate([p.model_dump(mode="json") for p in found], page, page_size)


@router.post("/disposals", status_code=201, tags=["disposals"])
def propose(ctx: Ctx, who: ActorDep, body: ProposeIn) -> dict[str, Any]:
    """Propose documents whose retention has ended (ids, and/or from_due: every due document whose class ends
    in destruction) for the appraisal council. Nothing is destroyed yet."""
    if not body.documents and not body.from_due:
        raise Invalid("give documents or from_due: true")
    return _proposal(disposal.propose(ctx, who, list(body.documents), from_due=body.from_due, note=body.note))


@router.get("/disposals/{proposal_id}", tags=["disposals"])
def show_disposal(ctx: Ctx, who: ActorDep, proposal_id: ProposalId) -> dict[str, Any]:
    """One proposal with each document's outcome."""
    return _proposal(disposal.get(ctx, who, proposal_id))


@router.post("/disposals/{proposal_id}/approve", tags=["disposals"])
def approve(ctx: Ctx, who: ActorDep, proposal_id: ProposalId, body: ApproveIn) -> dict[str, Any]:
    """Record the approving decision and the appraisal council (excluded documents are kept)."""
    return _proposal(_conflict(disposal.approve, ctx, who, proposal_id, body.decision, body.council,
                               list(body.exclude)))


@router.post("/disposals/{proposal_id}/reject", tags=["disposals"])
def reject(ctx: Ctx, who: ActorDep, proposal_id: ProposalId, body: ReasonIn) -> dict[str, Any]:
    """Turn down a pending or approved proposal: nothing is destroyed."""
    return _proposal(_conflict(disposal.reject, ctx, who, proposal_id, body.reason))


@router.post("/disposals/{proposal_id}/execute", tags=["disposals"])
def execute(ctx: Ctx, who: ActorDep, proposal_id: ProposalId) -> dict[str, Any]:
    """Destroy the approved proposal's documents and archive the signed disposal record. The answer is the
    proposal: ``state`` executed, or failed with the reason (run it again once storage's lock has ended)."""
    return _proposal(_conflict(disposal.execute, ctx, who, proposal_id))
