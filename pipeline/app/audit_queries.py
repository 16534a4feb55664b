"""Reading the audit trail: queries answer from the catalog mirror; verification recomputes the chain from S3."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipeline.app.context import Context
from pipeline.core.actor import Actor
from pipeline.core.vocabulary import Role


def list_events(ctx: Context, actor: Actor, object_id: str | None = None, actor_name: str | None = None,
                date_from: datetime | None = None, date_to: datetime | None = None,
                limit: int | None = 200) -> list[dict[str, Any]]:
    """Events in chain order (the latest ``limit`` of them), filtered by object, actor and time."""
    actor.require(Role.RECORDS_OFFICER, "read the audit trail")
    events = ctx.catalog.query_audit(object_id=object_id, actor=actor_name, date_from=date_from, date_to=date_to)
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
