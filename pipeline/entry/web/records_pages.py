"""The records office's pages (records officers; administrators have every role): the retention due list, from
which documents are proposed for disposal, and legal holds (place, list, release). The forms call the same use
cases as ``archive hold|disposal …`` and the REST API, which check the role and clearance again and audit every
change. A result is shown after a redirect (a reload never repeats it); a refusal is shown on the form's own
page with its reason (untrusted text, escaped like everything else). Proposals are in :mod:`disposal_pages`."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from fastapi import Path as PathParam
from fastapi import Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from pipeline.app import disposal, holds, retention
from pipeline.app.errors import Invalid, NotFound
from pipeline.app.searching import SearchQuery
from pipeline.core.dates import VIETNAM
from pipeline.core.disposal import ProposalState
from pipeline.core.vocabulary import Role
from pipeline.entry.api.auth import Caller
from pipeline.entry.api.common import IdPattern, call, context, day, plain
from pipeline.entry.web import records_words  # noqa: F401 - registers the records_… words
from pipeline.entry.web.auth import PageCaller, require_role
from pipeline.entry.web.render import render
from pipeline.entry.web.routing import page_router

router = page_router()
HoldId = Annotated[str, PathParam(pattern=IdPattern)]
Done = Annotated[str | None, Query(max_length=20)]
Ref = Annotated[str | None, Query(max_length=64, pattern=IdPattern)]
MAX_FIELD = 2000
ORIGINS = ("scanned", "born_digital", "mixed")
OPEN = (ProposalState.PENDING, ProposalState.APPROVED, ProposalState.FAILED)


def officer(who: Caller, action: str) -> None:
    """The page's own role check (the 403 page); each use case checks again."""
    require_role(who, Role.RECORDS_OFFICER, action)


def field(form: FormData, name: str, limit: int = MAX_FIELD) -> str:
    """A text field of a form: NFC, trimmed, no control characters, at most ``limit`` characters."""
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    if len(value) > limit:
        raise Invalid(f"{name}: at most {limit} characters")
    try:
        return plain(value).strip()
    except ValueError as exc:
        raise Invalid(f"{name}: {exc}") from None


def checked(form: FormData, name: str, pattern: str = r"^[0-9a-fA-F]{6,64}$") -> list[str]:
    """The values of a group of checkboxes (document ids by default), each checked against ``pattern``."""
    values = [v for v in form.getlist(name) if isinstance(v, str)]
    bad = [v for v in values if not re.fullmatch(pattern, v)]
    if bad:
        raise Invalid(f"{name}: {bad[0][:40]!r} is not valid")
    return values


def vn_time(value: datetime | date | None, with_time: bool = True) -> str:
    """A date, or a time in Vietnam (+07:00), as the offices write them."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M" if with_time else "%d/%m/%Y")
    return value.strftime("%d/%m/%Y")


def done_note(done: str | None, allowed: tuple[str, ...]) -> str:
    """The message key of a result shown after a redirect (only known ones: the URL is the caller's)."""
    return f"records_done_{done}" if done in allowed else ""


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


# ---- due list -----------------------------------------------------------------------------------------------
def _due_page(request: Request, who: Caller, error: str = "", note: str = "") -> Response:
    officer(who, "list documents due for disposal")
    ctx = context(request)
    due = retention.due(ctx, who.actor)
    proposed = {item.id: p.id for p in disposal.list_proposals(ctx, who.actor) if p.state in OPEN
                for item in p.items if not item.excluded}
    return render(request, "records_due.html", status=400 if error else 200, who=who, due=due,
                  proposed=proposed, error=error, note=note, vn=vn_time, tab="due")


@router.get("/records")
def due_page(request: Request, who: PageCaller) -> Response:
    return _due_page(request, who)


@router.post("/records/disposals")
async def propose(request: Request, who: PageCaller) -> Response:
    """Propose the ticked documents, or (``mode=due``) every due document whose class ends in destruction."""
    officer(who, "propose documents for disposal")
    form = await request.form()
    try:
        docs = checked(form, "doc")
        from_due = form.get("mode") == "due"
        note = field(form, "note")
        if not docs and not from_due:
            raise Invalid("tick at least one document")
        made = await call(disposal.propose, context(request), who.actor, [] if from_due else docs,
                          from_due=from_due, note=note)
    except (Invalid, NotFound) as exc:
        kept = form.get("note")
        return await call(_due_page, request, who, str(exc), kept if isinstance(kept, str) else "")
    return redirect(f"/records/disposals/{made.id}?done=proposed")


# ---- holds --------------------------------------------------------------------------------------------------
def _holds_page(request: Request, who: Caller, show_all: bool = False, done: str | None = None,
                ref: str | None = None, error: str = "", values: dict[str, str] | None = None) -> Response:
    officer(who, "list legal holds")
    found = sorted(holds.list_holds(context(request), who.actor, show_all), key=lambda h: h.created_at,
                   reverse=True)
    return render(request, "records_holds.html", status=400 if error else 200, who=who, holds=found,
                  show_all=show_all, done=done_note(done, ("placed", "released")), ref=ref or "", error=error,
                  values=values or {}, origins=ORIGINS, vn=vn_time, tab="holds")


@router.get("/records/holds")
def holds_page(request: Request, who: PageCaller, show_all: Annotated[bool, Query(alias="all")] = False,
               done: Done = None, ref: Ref = None) -> Response:
    return _holds_page(request, who, show_all, done, ref)


def _hold_query(form: FormData) -> SearchQuery:
    origin = field(form, "origin", 20)
    if origin and origin not in ORIGINS:
        raise Invalid(f"origin: {origin[:20]!r} is not one of {', '.join(ORIGINS)}")
    return SearchQuery(text=field(form, "query", 500), doc_type=field(form, "doc_type", 200) or None,
                       issuer=field(form, "issuer", 200) or None, unit=field(form, "unit", 200) or None,
                       origin=origin or None, date_from=day(field(form, "date_from", 20), "date_from"),
                       date_to=day(field(form, "date_to", 20), "date_to"))


@router.post("/records/holds")
async def place_hold(request: Request, who: PageCaller) -> Response:
    """Hold the documents given by id (or prefix) and/or found by a search with its filters."""
    officer(who, "place legal holds")
    form = await request.form()
    names = ("documents", "query", "doc_type", "issuer", "unit", "origin", "date_from", "date_to", "reason",
             "case", "title")
    try:
        idents = [i for i in re.split(r"[\s,;]+", field(form, "documents", 20_000)) if i]
        made = await call(holds.add, context(request), who.actor, idents, field(form, "reason"), field(form, "case"),
                          field(form, "title", 200), _hold_query(form))
    except (Invalid, NotFound) as exc:  # NotFound: an id no document within the clearance has
        kept = {n: v for n in names if isinstance(v := form.get(n), str)}
        return await call(_holds_page, request, who, False, None, None, str(exc), kept)
    return redirect(f"/records/holds?done=placed&ref={made.id}")


@router.post("/records/holds/{hold_id}/release")
async def release_hold(request: Request, who: PageCaller, hold_id: HoldId) -> Response:
    officer(who, "release legal holds")
    form = await request.form()
    try:
        released = await call(holds.release, context(request), who.actor, hold_id, field(form, "reason"))
    except Invalid as exc:
        return await call(_holds_page, request, who, False, None, None, str(exc))
    return redirect(f"/records/holds?done=released&ref={released.id}")

