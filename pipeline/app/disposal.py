"""The disposal workflow, as Vietnamese practice has it: the records office lists the documents whose retention
has ended (a proposal, with the reason for each), the appraisal council reviews it and a decision approves it,
then the archive destroys exactly those documents and archives a signed disposal record listing them.

Nothing is destroyed without an approved proposal; a document put on hold (or no longer due) after approval is
skipped with the reason; a document the storage still protects is left whole and the proposal ``failed``, to
be executed again later. Only a records officer (or an admin) acts, and only on documents within their
clearance; every step is an audit event and a new version of ``disposals/<id>.json`` in storage."""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from datetime import UTC, date, datetime
from typing import Any

from pipeline.app import destruction, disposal_record, documents
from pipeline.app.context import Context
from pipeline.app.errors import Invalid, NotFound
from pipeline.app.renewal import sealed_hash
from pipeline.app.retention import today
from pipeline.archive.disposal import StillLocked
from pipeline.archive.errors import NotFoundError
from pipeline.core.actor import Actor
from pipeline.core.disposal import ItemOutcome, Proposal, ProposalItem, ProposalState
from pipeline.core.record import DocumentRecord
from pipeline.core.schedule import Action
from pipeline.core.vocabulary import Classification, Role

log = logging.getLogger("archive.disposal")
MAX_ITEMS = 5000
OPEN_STATES = (ProposalState.PENDING, ProposalState.APPROVED, ProposalState.FAILED)


def _item(record: DocumentRecord) -> ProposalItem:
    meta, facts = record.metadata, record.retention
    years = f"{facts.years} năm / years" if facts.years else ""
    reason = (f"hết thời hạn bảo quản ({years}, nhóm {facts.class_code} {facts.class_name}) ngày "
              f"{record.retain_until:%d/%m/%Y} / retention ended; schedule action: {facts.action}")
    archive = record.artefacts.get("archive.pdf")
    return ProposalItem(id=record.id, doc_number=meta.doc_number, title=meta.title, doc_type=meta.doc_type,
                        issued_date=meta.issued_date, classification=meta.classification.value,
                        dossier_code=meta.dossier_code, retention_class=facts.class_code,
                        retention_years=facts.years, retain_until=record.retain_until, action=facts.action,
                        reason=reason, page_count=record.page_count, sha256=archive.sha256 if archive else "")


def _not_due(record: DocumentRecord, on: date) -> str:
    """Why ``record`` may not be destroyed on ``on`` ("" when it may)."""
    if record.disposal is not None:
        return f"already destroyed under {record.disposal.proposal}"
    if record.retention.permanent:
        return "a permanent record (vĩnh viễn) is never destroyed"
    if record.retain_until is None:
        return "its retention has not started (the dossier is still open)"
    if record.retain_until >= on:
        return f"retained until {record.retain_until:%Y-%m-%d}"
    if record.retention.action == Action.TRANSFER.value:
        return "its class is transferred to the historical archive at the end, not destroyed"
    return ""


def _in_open_proposals(ctx: Context, actor: Actor) -> dict[str, str]:
    """Documents already in an open proposal → that proposal (named only when the actor may see it all)."""
    return {item.id: p.id if _visible(actor, p) else "another open proposal"
            for p in ctx.store.read_proposals() if p.state in OPEN_STATES for item in p.items
            if item.outcome != ItemOutcome.SKIPPED}


def propose(ctx: Context, actor: Actor, idents: list[str], from_due: bool = False, note: str = "") -> Proposal:
    """A pending proposal of the named documents and/or (``from_due``) every due document whose class ends in
    destruction (review classes are proposed by id: the council's approval is their new decision)."""
    actor.require(Role.RECORDS_OFFICER, "propose documents for disposal")
    on = today()
    doc_ids = [documents.resolve_id(ctx, actor, ident) for ident in idents]
    if from_due:
        doc_ids += ctx.catalog.due_documents(actor.clearance.rank, on)
    doc_ids = list(dict.fromkeys(doc_ids))
    proposed = _in_open_proposals(ctx, actor)
    held = ctx.catalog.held_documents(doc_ids)
    items, refused = [], []
    for doc_id in doc_ids:
        record = ctx.catalog.get_record(doc_id, actor.clearance.rank)
        if record is None:
            continue
        why = _not_due(record, on) or ("on legal hold" if doc_id in held else "") or (
            f"already in {proposed[doc_id]}" if doc_id in proposed else "")
        if from_due and not why and record.id not in idents and record.retention.action != Action.DESTROY.value:
            continue  # --from-due: only what the schedule says to destroy
        if why:
            refused.append(f"{doc_id[:12]}: {why}")
        else:
            items.append(_item(record))
    if refused and idents:
        raise Invalid("cannot propose " + "; ".join(refused))
    if not items:
        raise Invalid("nothing to propose: no document is due for destruction" if from_due and not idents
                      else "nothing to propose")
    if len(items) > MAX_ITEMS:
        raise Invalid(f"{len(items)} documents: propose at most {MAX_ITEMS} at a time")
    now = datetime.now(UTC)
    proposal = Proposal(id=f"P-{now:%Y%m%d}-{uuid.uuid4().hex[:8]}", items=items, note=note,
                        created_by=actor.name, created_at=now)
    ctx.store.put_proposal(proposal)
    ctx.audit.record(actor.name, "disposal.propose", proposal.id, "ok",
                     {"documents": proposal.item_ids(), "note": proposal.note})
    return proposal


def _visible(actor: Actor, proposal: Proposal) -> bool:
    return all(actor.can_see(i.classification or Classification.PUBLIC) for i in proposal.items)


def get(ctx: Context, actor: Actor, proposal_id: str) -> Proposal:
    """The proposal, if the actor may see every document in it (otherwise it does not exist for them)."""
    actor.require(Role.RECORDS_OFFICER, "read disposal proposals")
    found = ctx.store.get_proposal(proposal_id.strip())
    if found is None or not _visible(actor, found):
        raise NotFound(f"no disposal proposal {proposal_id}")
    return found


def approval_mac(key: str, proposal: Proposal) -> str:
    """HMAC-SHA256 under ``audit.seal_key`` of what was approved (:meth:`Proposal.approved_terms`): anyone with
    the S3 keys can write a proposal, only the archive can approve one."""
    return hmac.new(key.encode("utf-8"), proposal.approved_terms(), hashlib.sha256).hexdigest()


def list_proposals(ctx: Context, actor: Actor) -> list[Proposal]:
    actor.require(Role.RECORDS_OFFICER, "list disposal proposals")
    return [p for p in ctx.store.read_proposals() if _visible(actor, p)]


def approve(ctx: Context, actor: Actor, proposal_id: str, decision: str, council: str,
            exclude: list[str] | None = None) -> Proposal:
    """Record the approving decision (Quyết định số …) and the council that reviewed the list; the documents
    in ``exclude`` (ids or prefixes) are kept: left out of this destruction."""
    actor.require(Role.RECORDS_OFFICER, "approve disposals")
    if not decision.strip() or not council.strip():
        raise Invalid("an approval needs the decision (--decision \"Quyết định số …\") and the appraisal council "
                      "(--council \"names…\")")
    ctx.audit.require_seal_key()
    proposal = get(ctx, actor, proposal_id)
    if proposal.state != ProposalState.PENDING:
        raise Invalid(f"proposal {proposal.id} is {proposal.state.value}: only a pending proposal can be approved")
    kept = {_item_id(proposal, ident) for ident in exclude or []}
    if kept and len(kept) == len(proposal.items):
        raise Invalid("every document would be excluded: reject the proposal instead")
    items = [i.model_copy(update={"excluded": True, "outcome": ItemOutcome.SKIPPED,
                                  "outcome_reason": "excluded by the approval: kept"}) if i.id in kept else i
             for i in proposal.items]
    approved = Proposal.model_validate({**proposal.model_dump(), "items": [i.model_dump() for i in items],
                                        "state": ProposalState.APPROVED, "decision": decision, "council": council,
                                        "approved_by": actor.name, "approved_at": datetime.now(UTC)})
    approved.approval_mac = approval_mac(ctx.audit.seal_key, approved)
    ctx.store.put_proposal(approved)
    ctx.audit.record(actor.name, "disposal.approve", approved.id, "ok",
                     {"decision": approved.decision, "council": approved.council, "excluded": sorted(kept),
                      "documents": [i.id for i in approved.items if not i.excluded]})
    return approved


def _item_id(proposal: Proposal, ident: str) -> str:
    matches = [i.id for i in proposal.items if i.id.startswith(ident.strip().lower())] if ident.strip() else []
    if len(matches) != 1:
        raise Invalid(f"{ident!r} names {'no' if not matches else 'more than one'} document of {proposal.id}")
    return matches[0]


def reject(ctx: Context, actor: Actor, proposal_id: str, reason: str) -> Proposal:
    """Turn down a pending or approved proposal (the council kept the documents, or the list was wrong):
    nothing is destroyed, and its documents may be proposed again."""
    actor.require(Role.RECORDS_OFFICER, "reject disposal proposals")
    if not reason.strip():
        raise Invalid("a rejection needs its reason (--reason)")
    proposal = get(ctx, actor, proposal_id)
    if proposal.state not in (ProposalState.PENDING, ProposalState.APPROVED):
        raise Invalid(f"proposal {proposal.id} is {proposal.state.value}: only a pending or approved proposal "
                      "can be rejected")
    rejected = Proposal.model_validate({**proposal.model_dump(), "state": ProposalState.REJECTED,
                                        "rejected_by": actor.name, "rejection_reason": reason})
    ctx.store.put_proposal(rejected)
    ctx.audit.record(actor.name, "disposal.reject", rejected.id, "ok", {"reason": rejected.rejection_reason})
    return rejected


def _execute_item(ctx: Context, actor: Actor, proposal: Proposal, item: ProposalItem, on: date,
                  seals: tuple[Any, Any]) -> ProposalItem:
    def outcome(state: ItemOutcome, why: str = "", **more: str) -> ProposalItem:
        return item.model_copy(update={"outcome": state, "outcome_reason": why, **more})

    try:
        stored = ctx.store.get_record(item.id)  # storage's own record, not the derived catalog
    except NotFoundError:
        return outcome(ItemOutcome.SKIPPED, "no longer archived")
    if not actor.can_see(stored.metadata.classification):
        return outcome(ItemOutcome.FAILED, "above your clearance: an officer cleared for it must execute")
    if stored.disposal is not None and stored.disposal.proposal != proposal.id:
        return outcome(ItemOutcome.SKIPPED, f"already destroyed under {stored.disposal.proposal}")
    if stored.disposal is None:  # a residual of this proposal is a crashed run: always finished
        why = ("put on legal hold after the approval: kept" if ctx.catalog.held_documents([item.id])
               else _not_due(stored, on))
        if why:
            return outcome(ItemOutcome.SKIPPED, why if "hold" in why else f"no longer due: {why}")
    try:
        residual = destruction.destroy(ctx, actor, proposal, stored, sealed_hash(seals, item.id))
    except destruction.Held as exc:
        return outcome(ItemOutcome.SKIPPED, f"put on legal hold after the approval: kept ({exc})")
    except StillLocked as exc:
        return outcome(ItemOutcome.FAILED, str(exc))
    except Exception as exc:  # one document must not stop the others; the proposal says which failed
        log.warning("destroying %s failed: %s", item.id, exc, extra={"doc_id": item.id})
        return outcome(ItemOutcome.FAILED, str(exc))
    destroyed = residual.disposal.destroyed.get("archive.pdf", "") if residual.disposal else ""
    return outcome(ItemOutcome.DESTROYED, destroyed_sha256=destroyed)


def execute(ctx: Context, actor: Actor, proposal_id: str) -> Proposal:
    """Destroy the approved proposal's documents (those not destroyed yet, on a re-run) and archive the signed
    disposal record of what was destroyed."""
    actor.require(Role.RECORDS_OFFICER, "execute disposals")
    ctx.audit.require_seal_key()
    proposal = get(ctx, actor, proposal_id)
    if proposal.state not in (ProposalState.APPROVED, ProposalState.FAILED):
        raise Invalid(f"proposal {proposal.id} is {proposal.state.value}: only an approved proposal is executed"
                      + (" (approve it first: archive disposal approve)" if proposal.state == "pending" else ""))
    if not hmac.compare_digest(proposal.approval_mac, approval_mac(ctx.audit.seal_key, proposal)):
        ctx.audit.record(actor.name, "disposal.execute", proposal.id, "refused",
                         {"reason": "the approval does not verify"})
        raise Invalid(f"proposal {proposal.id} does not match its approval (changed in storage?): not executed")
    ctx.store.claim_disposal_run(proposal.id, proposal.runs + 1, actor.name)  # one execution at a time
    started = datetime.now(UTC)
    proposal = proposal.model_copy(update={"executed_by": actor.name, "executed_at": started,
                                           "runs": proposal.runs + 1})
    last = ctx.catalog.last_audit_event()
    seals = ctx.audit.latest_seals(int(last["seq"]) if last else None)  # read once for the whole run
    on = today()
    items = [item if item.outcome in (ItemOutcome.DESTROYED, ItemOutcome.SKIPPED)
             else _execute_item(ctx, actor, proposal, item, on, seals) for item in proposal.items]
    unrecorded = [i for i in items if i.outcome == ItemOutcome.DESTROYED and not i.disposal_record]
    failures = [f"{i.id[:12]}: {i.outcome_reason}" for i in items if i.outcome == ItemOutcome.FAILED]
    records = list(proposal.disposal_records)
    if unrecorded:  # also those destroyed by an earlier run whose record could not be archived
        try:
            record_id = disposal_record.archive_record(ctx, actor, proposal, unrecorded, started)
        except Exception as exc:
            log.warning("the disposal record of %s could not be archived: %s", proposal.id, exc)
            failures.append(f"disposal record not archived ({exc}): execute again")
        else:
            records.append(record_id)
            items = [i.model_copy(update={"disposal_record": record_id}) if i in unrecorded else i for i in items]
    state = ProposalState.FAILED if failures else ProposalState.EXECUTED
    proposal = proposal.model_copy(update={"items": items, "state": state, "disposal_records": records,
                                           "failure": "; ".join(failures)})
    ctx.store.put_proposal(proposal)
    ctx.audit.record(actor.name, "disposal.execute", proposal.id, state.value,
                     {"destroyed": [i.id for i in items if i.outcome == ItemOutcome.DESTROYED],
                      "skipped": {i.id: i.outcome_reason for i in items if i.outcome == ItemOutcome.SKIPPED},
                      "failed": {i.id: i.outcome_reason for i in items if i.outcome == ItemOutcome.FAILED},
                      "disposal_records": records, "failure": proposal.failure, "run": proposal.runs})
    return proposal
