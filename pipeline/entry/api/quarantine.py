"""``GET /api/v1/quarantine`` lists the quarantined inputs the caller may see (archivists, within their
clearance); ``POST /api/v1/quarantine/{entry_id}/retry`` runs one again from its kept bytes after a fix (a tool,
a setting or the batch's manifest). The outcome is in the answer (200 whether archived or still quarantined);
the application layer checks the role and the clearance, journals and audits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from pydantic import BaseModel

from pipeline.app.context import Context
from pipeline.app.quarantine import entries
from pipeline.app.quarantine_retry import retry as run_retry
from pipeline.entry.api.auth import ActorDep
from pipeline.entry.api.common import LIST_PAGE_SIZE, PageNo, PageSize, Short, context, paginate
from pipeline.entry.api.errors import ErrorBody

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (401, 403, 404, 422)}
router = APIRouter(prefix="/api/v1/quarantine", tags=["quarantine"], responses=ERRORS)
Ctx = Annotated[Context, Depends(context)]
EntryId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{6,12}$",
                                   description="The entry id from the listing (or a unique prefix of 6+).")]


class KeptFile(BaseModel):
    key: str | None
    name: str | None
    size: int | None
    sha256: str | None


class Entry(BaseModel):
    id: str
    batch: str
    source: str
    stage: str
    reason: str  # the latest reason
    time: str
    size: int
    stored: bool
    files: list[KeptFile]
    reasons: list[str]  # the first reason, then each failed retry's
    batch_id: str
    classification: str
    resolved: bool
    resolution: str
    doc_id: str
    attempts: list[dict[str, Any]]


class EntryPage(BaseModel):
    items: list[Entry]
    total: int
    page: int
    page_size: int


class RetryOutcome(BaseModel):
    entry: str
    source: str
    status: str  # archived | duplicate | quarantined
    reason: str
    stage: str
    doc_id: str
    batch_id: str
    replacement: dict[str, Any] | None


@router.get("", response_model=EntryPage)
def listing(ctx: Ctx, who: ActorDep,
            batch: Annotated[Short | None, Query(description="Only this batch (its id or its name).")] = None,
            page: PageNo = 1, page_size: PageSize = LIST_PAGE_SIZE) -> dict[str, Any]:
    """Quarantined inputs you may see, oldest first: id, batch, source, stage, reason, time, size, and whether
    each was resolved since (retried and archived, or the same content archived later)."""
    return paginate([e.to_dict() for e in entries(ctx, who, batch or None)], page, page_size)


@router.post("/{entry_id}/retry", response_model=RetryOutcome)
def retry(ctx: Ctx, who: ActorDep, entry_id: EntryId) -> dict[str, Any]:
    """Run a quarantined input through intake and the stages again from its kept bytes (after fixing a tool,
    a setting or the batch folder's manifest). ``status`` says what became of it: archived (the entry is
    resolved, its batch journal updated) or quarantined (the new reason is added to the entry)."""
    return run_retry(ctx, who, entry_id).to_dict()
