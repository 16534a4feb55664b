"""Reading the audit trail: queries answer from the catalog mirror; verification recomputes the chain from S3."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pipeline.app.context import Context
from pipeline.core.actor import Actor
from pipeline.core.vocabulary import Classification, Role

DOC_ID = re.compile(r"^[0-9a-f]{64}$")
LISTS = ("documents", "destroyed", "skipped", "failed", "still_held", "excluded")  # detail keys naming documents


def _record_documents(ctx: Context, object_id: str, cache: dict[str, set[str]]) -> set[str]:
    """The documents a hold (H-…) or a disposal proposal (P-…) covers: events about it name them too."""
    if object_id not in cache:
        found: set[str] = set()
        if object_id.startswith("H-"):
            hold = ctx.catalog.get_hold(object_id)
            found = set(hold.documents) if hold else set()
        elif object_id.startswith("P-"):
            proposal = ctx.store.get_proposal(object_id)
            found = set(proposal.item_ids()) if proposal else set()
        cache[object_id] = found
    return cache[object_id]


def _named_documents(event: dict[str, Any]) -> set[str]:
    """The document ids an event names: its object, and the ids its detail lists."""
    named = {str(event.get("object", ""))}
    detail = event.get("detail") or {}
    for key in LISTS:
        value = detail.get(key) if isinstance(detail, dict) else None
        named |= set(map(str, value)) if isinstance(value, list | dict) else set()
    return {n for n in named if DOC_ID.match(n)}


def list_events(ctx: Context, actor: Actor, object_id: str | None = None, actor_name: str | None = None,
                date_from: datetime | None = None, date_to: datetime | None = None,
                limit: int | None = 200) -> list[dict[str, Any]]:
    """Events in chain order (the latest ``limit`` of them), filtered by object, actor and time. Below the
    highest clearance a reader sees only the events about documents within their clearance (or holds and
    proposals covering only such documents); every other event may count or name documents above it."""
    actor.require(Role.RECORDS_OFFICER, "read the audit trail")
    events = ctx.catalog.query_audit(object_id=object_id, actor=actor_name, date_from=date_from, date_to=date_to)
    if actor.clearance is not Classification.TUYET_MAT:
        seen: dict[str, bool] = {}

        def visible(doc_id: str) -> bool:
            if doc_id not in seen:
                seen[doc_id] = ctx.catalog.get_record(doc_id, actor.clearance.rank) is not None
            return seen[doc_id]

        covers: dict[str, set[str]] = {}

        def shown(event: dict[str, Any]) -> bool:
            # Below the highest clearance only events about documents one may see (directly, or through a hold
            # or a proposal covering only such documents): batch, reindex, report and quarantine events carry
            # counts and names that include documents above it.
            named = _named_documents(event) | _record_documents(ctx, str(event["object"]), covers)
            return bool(named) and all(visible(d) for d in named)

        events = [e for e in events if shown(e)]
    events = events[-limit:] if limit else events
    for event in events:
        if isinstance(event.get("at"), datetime):
            event["at"] = event["at"].isoformat()
    return events


def verify_trail(ctx: Context, actor: Actor) -> dict[str, Any]:
    """Recompute the chain from S3 alone; the catalog's last seq also catches a trail cut short."""
    actor.require(Role.RECORDS_OFFICER, "verify the audit trail")
    last = ctx.catalog.last_audit_event()
    report = ctx.audit.verify(known_head=int(last["seq"]) if last else None)
    if report.ok:  # the verification itself is a fact worth keeping (after the check, so not part of it)
        ctx.audit.record(actor.name, "audit.verify", "audit", "ok", {"checked": report.checked})
    return {"ok": report.ok, "checked": report.checked, "kind": report.kind, "seq": report.seq,
            "message": report.message}
