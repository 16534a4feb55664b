"""Review decisions (xem xét lại giá trị tài liệu): at the end of a ``review`` class the records office decides
again. A document stays due until a decision is recorded: destroy it (`archive disposal propose ID`: the
approval is the decision) or keep it — N more years, or permanently — with `archive retention review`.

A keep decision is part of the document's retention facts (``retention.review``): a new sealed metadata.json
records it, storage locks are lengthened to the new date, and a later schedule recomputation never gives the
document less (pipeline.app.retention_rules)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pipeline.app import documents
from pipeline.app.context import Context
from pipeline.app.errors import Invalid
from pipeline.app.renewal import sealed_hash
from pipeline.app.reschedule import RetentionChange, commit_retention, load_schedule
from pipeline.app.retention import today
from pipeline.app.retention_rules import retention_facts
from pipeline.core.actor import Actor
from pipeline.core.record import ReviewDecision
from pipeline.core.vocabulary import Role

MAX_KEEP_YEARS = 100


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def review(ctx: Context, actor: Actor, idents: list[str], decision: str, keep_years: int | None = None,
           permanent: bool = False) -> list[RetentionChange]:
    """Record a keep decision on due documents: ``keep_years`` more years from today, or ``permanent``."""
    actor.require(Role.RECORDS_OFFICER, "record review decisions")
    if not decision.strip():
        raise Invalid('a review needs its decision (--decision "Quyết định số …" or the council\'s minutes)')
    if (keep_years is None) == (not permanent):
        raise Invalid("say what the decision keeps: --keep-years N or --permanent (to destroy, propose the "
                      "documents for disposal)")
    if keep_years is not None and not 1 <= keep_years <= MAX_KEEP_YEARS:
        raise Invalid(f"--keep-years must be between 1 and {MAX_KEEP_YEARS}")
    on = today()
    doc_ids = list(dict.fromkeys(documents.resolve_id(ctx, actor, ident) for ident in idents))
    if not doc_ids:
        raise Invalid("name the documents reviewed")
    for doc_id in doc_ids:
        record = documents.find(ctx, actor, doc_id)
        if record.disposal is not None:
            raise Invalid(f"{doc_id[:12]} was destroyed under {record.disposal.proposal}")
        if record.retention.permanent:
            raise Invalid(f"{doc_id[:12]} is a permanent record: there is nothing to review")
        if record.retain_until is None or record.retain_until >= on:
            until = record.retain_until or "its dossier closes"
            raise Invalid(f"{doc_id[:12]} is not due for review (retained until {until})")
    ctx.audit.require_seal_key()
    schedule = load_schedule(ctx)
    closings = ctx.catalog.dossier_closings()
    last = ctx.catalog.last_audit_event()
    seals = ctx.audit.latest_seals(int(last["seq"]) if last else None)
    made = ReviewDecision(decision=decision.strip(), decided_by=actor.name, decided_at=datetime.now(UTC),
                          keep_until=_years_after(on, keep_years) if keep_years else None, permanent=permanent)
    changes = []
    for doc_id in doc_ids:
        expected = sealed_hash(seals, doc_id)
        stored = ctx.store.get_record(doc_id)
        stored.retention.review = made
        facts, until = retention_facts(stored, schedule, closings.get(stored.metadata.dossier_code))
        changes.append(commit_retention(ctx, actor, stored, facts, until, expected,
                                        {"reason": "review", "decision": made.decision,
                                         "schedule": schedule.version}))
    return changes
