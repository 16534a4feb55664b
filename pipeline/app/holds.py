"""Legal holds for the records office: place a hold on documents (by id or by a search), release it with a
reason, list them. A held document is never due and never disposed of; the storage's legal-hold flag is set
on every version of every object of the document, and cleared only when no active hold covers it. Every step
is an audit event; only a records officer (or an admin) may act, within their clearance."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

from pipeline.app import documents
from pipeline.app.context import Context
from pipeline.app.errors import Invalid, NotFound
from pipeline.core.actor import Actor
from pipeline.core.hold import Hold
from pipeline.core.vocabulary import Role
from search.model import SearchQuery

MAX_QUERY_DOCUMENTS = 1000


def _query_ids(ctx: Context, actor: Actor, query: SearchQuery) -> list[str]:
    """Every document the search (with its filters) finds within the actor's clearance, page by page; all or
    nothing."""
    from pipeline.app.searching import search

    text = query.text
    ids: list[str] = []
    page, total = 1, None
    while total is None or len(ids) < total:
        results = search(ctx, actor, dataclasses.replace(query, page=page, page_size=100))
        if results.near_matches:
            raise Invalid(f"no exact match for {text!r} (only spelling-tolerant ones): refine the query or give ids")
        total = results.total
        if total > MAX_QUERY_DOCUMENTS:
            raise Invalid(f"{total} documents match {text!r}: narrow the query (at most {MAX_QUERY_DOCUMENTS} "
                          "per hold)")
        if not results.hits:
            break
        ids += [hit.id for hit in results.hits]
        page += 1
    ids = list(dict.fromkeys(ids))
    if len(ids) != total:
        raise Invalid(f"the search for {text!r} changed while it was read ({len(ids)} of {total}): try again")
    return ids


def _scope(query: SearchQuery) -> dict[str, str]:
    """The search a hold was placed by, for its audit event."""
    return {k: str(v) for k, v in dataclasses.asdict(query).items()
            if k in ("text", "doc_type", "issuer", "unit", "origin", "date_from", "date_to") and v}


def add(ctx: Context, actor: Actor, idents: list[str], reason: str, case_ref: str, title: str = "",
        query: str | SearchQuery = "") -> Hold:
    """Hold the documents named by ``idents`` and/or found by ``query`` (search text, or a SearchQuery with
    filters: type, issuer, unit, origin, issue dates)."""
    actor.require(Role.RECORDS_OFFICER, "place legal holds")
    if not reason.strip() or not case_ref.strip():
        raise Invalid("a hold needs a reason (--reason) and the case or mandate it serves (--case)")
    doc_ids = [documents.resolve_id(ctx, actor, ident) for ident in idents]
    search_query = SearchQuery(text=query) if isinstance(query, str) else query
    if search_query.text.strip():
        doc_ids += _query_ids(ctx, actor, search_query)
    elif search_query != SearchQuery(text=search_query.text):
        raise Invalid("search filters need the search words (--query)")
    doc_ids = list(dict.fromkeys(doc_ids))
    if not doc_ids:
        raise Invalid("no document to hold: give ids or a --query that matches")
    now = datetime.now(UTC)
    hold = Hold(id=f"H-{now:%Y%m%d}-{uuid.uuid4().hex[:8]}", title=title or case_ref, case_ref=case_ref,
                reason=reason, documents=doc_ids, created_by=actor.name, created_at=now)
    # The hold's record first (from then on the documents are off the due list and a failure below leaves
    # a hold that `release` can still find), then the storage's flags.
    ctx.store.put_hold(hold)
    ctx.catalog.upsert_hold(hold)
    ctx.audit.record(actor.name, "hold.add", hold.id, "ok",
                     {"case": hold.case_ref, "reason": hold.reason, "documents": doc_ids,
                      "query": _scope(search_query)})
    for doc_id in doc_ids:
        ctx.store.set_legal_hold(doc_id, True)
    return hold


def release(ctx: Context, actor: Actor, hold_id: str, reason: str) -> Hold:
    actor.require(Role.RECORDS_OFFICER, "release legal holds")
    if not reason.strip():
        raise Invalid("releasing a hold needs a reason (--reason)")
    hold = ctx.catalog.get_hold(hold_id)
    if hold is None or not _sees_all(ctx, actor, hold):  # a hold on unseen documents does not exist for you
        raise NotFound(f"no hold {hold_id}")
    if not hold.active:
        raise Invalid(f"hold {hold_id} was already released on {hold.released_at:%Y-%m-%d} by {hold.released_by}")
    released = hold.model_copy(update={"released_at": datetime.now(UTC), "released_by": actor.name,
                                       "release_reason": reason})
    ctx.store.put_hold(released)
    ctx.catalog.upsert_hold(released)
    still_held = ctx.catalog.held_documents(hold.documents)  # by another active hold
    for doc_id in hold.documents:
        if doc_id not in still_held:
            ctx.store.set_legal_hold(doc_id, False)
    for doc_id in ctx.catalog.held_documents(hold.documents) - still_held:  # a hold placed meanwhile
        ctx.store.set_legal_hold(doc_id, True)
    ctx.audit.record(actor.name, "hold.release", hold.id, "ok",
                     {"reason": released.release_reason, "still_held": sorted(still_held)})
    return released


def list_holds(ctx: Context, actor: Actor, include_released: bool = False) -> list[Hold]:
    """The holds whose documents the actor may all see."""
    actor.require(Role.RECORDS_OFFICER, "list legal holds")
    # As for release: a hold on any document above the actor's clearance is not theirs to see.
    return [hold for hold in ctx.catalog.list_holds()
            if (hold.active or include_released) and _sees_all(ctx, actor, hold)]


def _sees_all(ctx: Context, actor: Actor, hold: Hold) -> bool:
    return all(ctx.catalog.get_record(d, actor.clearance.rank) is not None for d in hold.documents)





def reapply(ctx: Context, actor: Actor) -> dict[str, int]:
    """Make the storage's legal-hold flags agree with the hold records again, after a hold or a release that
    failed half-way (storage down): every document of a hold is flagged exactly when an active hold covers it.
    Idempotent; audited."""
    actor.require(Role.RECORDS_OFFICER, "re-apply legal holds")
    covered = {d for hold in ctx.catalog.list_holds() for d in hold.documents}
    held = ctx.catalog.held_documents(sorted(covered))
    versions = 0
    for doc_id in sorted(covered):
        if ctx.catalog.get_record(doc_id, actor.clearance.rank) is None:
            continue  # above the actor's clearance (or gone): another officer's to re-apply
        versions += ctx.store.set_legal_hold(doc_id, doc_id in held)
    counts = {"held": len(held), "released": len(covered - held), "versions": versions}
    ctx.audit.record(actor.name, "hold.reapply", "holds", "ok", counts)
    return counts
