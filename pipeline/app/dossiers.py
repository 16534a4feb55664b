"""Dossiers (hồ sơ) for the records office: register one, close it, show it, list them.

A dossier is a record in storage (``dossiers/<code>.json``, a new version per change) mirrored in the catalog.
Documents name their dossier by ``metadata.dossier_code`` (a manifest column). A code that documents name but
nobody registered is listed as an UNREGISTERED dossier, derived from its documents: the archive cannot invent
its title (a dossier is compiled and titled by the unit that kept it, lập hồ sơ), so it is never created
implicitly; `archive dossier add` registers it, with its title, and only a registered dossier can be closed.

Closing records the closing date, the trigger of the classes counted from it (``dossier-closed``): every
document of the dossier whose class in force has that trigger gets its retain-until date and longer storage
locks at once (:mod:`pipeline.app.reschedule`). The dossier's record is written first, so a closing stopped
half way is completed by `archive retention recompute`.

Counts, pages, dates and the derived retention come from the documents the actor may see: a document above
their clearance does not exist for them, and neither does a dossier all of whose documents are above it.
Only a records officer (or an admin) acts on dossiers; every change is an audit event."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pipeline.app.context import Context
from pipeline.app.errors import Invalid, NotFound
from pipeline.app.reschedule import Recomputation, RecomputeReport, load_schedule
from pipeline.app.retention import today
from pipeline.catalog.dossiers import DossierStats
from pipeline.core.actor import Actor
from pipeline.core.dossier import AccessRegime, Dossier, code_problem
from pipeline.core.record import DocumentRecord, nfc
from pipeline.core.schedule import Schedule, Trigger
from pipeline.core.vocabulary import Role


@dataclass
class DossierView:
    """A dossier as one actor may see it."""

    code: str
    title: str
    registered: bool  # False: only named by documents (listed, derived from them)
    state: str  # open | closed
    closed_at: date | None
    access: str
    retention: dict[str, Any]  # class, name, period, source (declared | derived)
    start_date: date | None
    end_date: date | None
    documents: int
    pages: int
    items: list[dict[str, Any]] = field(default_factory=list)  # its documents (show only)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _period(schedule: Schedule, code: str) -> tuple[bool, int]:
    cls = schedule.get(code)
    return (False, -1) if cls is None else (cls.permanent, cls.years or 0)


def _retention(schedule: Schedule, dossier: Dossier | None, stats: DossierStats | None) -> dict[str, Any]:
    """The declared class of the dossier, else the longest class among its (visible) documents."""
    source, code = "declared", dossier.retention if dossier is not None else ""
    if not code and stats is not None and stats.classes:
        source, code = "derived", max(stats.classes, key=lambda c: _period(schedule, c))
    if not code:
        return {"class": "", "name": "", "period": "", "source": ""}
    cls = schedule.get(code)
    period = "" if cls is None else "permanent" if cls.permanent else f"{cls.years} years"
    return {"class": code, "name": cls.name if cls else "", "period": period, "source": source}


def _view(schedule: Schedule, code: str, dossier: Dossier | None, stats: DossierStats | None) -> DossierView:
    first = stats.first_issued if stats else None
    closed = dossier.closed_at if dossier else None
    return DossierView(code=code, title=dossier.title if dossier else "", registered=dossier is not None,
                       state="closed" if closed else "open", closed_at=closed,
                       access=dossier.access.value if dossier else "",
                       retention=_retention(schedule, dossier, stats),
                       start_date=(dossier.start_date if dossier and dossier.start_date else first),
                       end_date=stats.last_issued if stats else None,
                       documents=stats.documents if stats else 0, pages=stats.pages if stats else 0)


def _item(record: DocumentRecord) -> dict[str, Any]:
    meta = record.metadata
    return {"id": record.id, "order": meta.order_in_dossier, "name": meta.export_name(),
            "doc_number": meta.doc_number, "doc_type": meta.doc_type, "title": meta.title,
            "issued_date": meta.issued_date, "pages": record.page_count, "classification": meta.classification.value,
            "retention_class": record.retention.class_code, "permanent": record.retention.permanent,
            "retain_until": record.retain_until}


def _code(code: str) -> str:
    code = nfc(code).strip()
    problem = code_problem(code)
    if problem:
        raise Invalid(problem)
    return code


def _find(ctx: Context, actor: Actor, code: str) -> tuple[Dossier | None, DossierStats | None]:
    """The registered dossier and the figures of its visible documents; NotFound when neither exists for the
    actor (a registered dossier whose every document is above the actor's clearance included)."""
    code = nfc(code).strip()
    dossier = ctx.catalog.get_dossier(code)
    stats = next(iter(ctx.catalog.dossier_stats(actor.clearance.rank, code)), None)
    if stats is None and (dossier is None or ctx.catalog.live_document_ids(code)):
        raise NotFound(f"no dossier {code}")
    return dossier, stats


def add(ctx: Context, actor: Actor, code: str, title: str, access: str = AccessRegime.RESTRICTED.value,
        start: date | None = None, retention: str = "") -> DossierView:
    """Register a dossier (open). ``retention``: a class code of the schedule in force, declared for it."""
    actor.require(Role.RECORDS_OFFICER, "register dossiers")
    code, title, retention = _code(code), nfc(title).strip(), retention.strip()
    if not title:
        raise Invalid("a dossier needs a title (--title): its tiêu đề hồ sơ")
    try:
        regime = AccessRegime(access.strip().lower())
    except ValueError:
        raise Invalid(f"access {access!r}: expected {' or '.join(AccessRegime)}") from None
    if start is not None and start > today():
        raise Invalid(f"the start date {start} is in the future")
    schedule = load_schedule(ctx)
    if retention and schedule.get(retention) is None:
        raise Invalid(f"no record class {retention!r} in the retention schedule in force "
                      f"(`archive retention schedule` lists them)")
    if ctx.catalog.get_dossier(code) is not None:
        raise Invalid(f"dossier {code} is already registered")
    dossier = Dossier(code=code, title=title, retention=retention, access=regime, start_date=start,
                      created_by=actor.name, created_at=datetime.now(UTC))
    ctx.store.put_dossier(dossier)  # the record first; the catalog is derived from it
    ctx.catalog.upsert_dossier(dossier)
    ctx.audit.record(actor.name, "dossier.add", code, "ok",
                     {"title": title, "access": regime.value, "retention": retention,
                      "start_date": start.isoformat() if start else None})
    return _view(schedule, code, dossier, next(iter(ctx.catalog.dossier_stats(actor.clearance.rank, code)), None))


def close(ctx: Context, actor: Actor, code: str, on: date | None = None) -> tuple[DossierView, RecomputeReport]:
    """Close a registered dossier on ``on`` (default today, Vietnam time) and recompute the retention of its
    documents whose class is triggered by the closing."""
    actor.require(Role.RECORDS_OFFICER, "close dossiers")
    dossier, stats = _find(ctx, actor, code)
    code = nfc(code).strip()
    if dossier is None:
        raise Invalid(f"dossier {code} is not registered (only its documents name it): register it first with "
                      f"`archive dossier add {code} --title …`")
    if dossier.closed_at is not None:
        raise Invalid(f"dossier {code} was already closed on {dossier.closed_at} (by {dossier.closed_by})")
    on = on or today()
    if on > today():
        raise Invalid(f"the closing date {on} is in the future: a dossier is closed once it is complete")
    if dossier.start_date is not None and on < dossier.start_date:
        raise Invalid(f"the closing date {on} is before the dossier's start date {dossier.start_date}")
    if stats is not None and stats.last_issued is not None and on < stats.last_issued:
        raise Invalid(f"the closing date {on} is before the issue date {stats.last_issued} of a document in "
                      f"dossier {code}")
    schedule = load_schedule(ctx)
    run = Recomputation(ctx, actor, schedule, f"dossier {code} closed on {on}")  # checks the seal key first
    closed = dossier.model_copy(update={"closed_at": on, "closed_by": actor.name,
                                        "closed_recorded_at": datetime.now(UTC)})
    ctx.store.put_dossier(closed)
    ctx.catalog.upsert_dossier(closed)
    ctx.audit.record(actor.name, "dossier.close", code, "ok", {"closed_at": on.isoformat()})
    report = run.run(ctx.catalog.live_document_ids(code), only=Trigger.DOSSIER_CLOSED).for_actor(actor)
    return _view(schedule, code, closed, stats), report


def show(ctx: Context, actor: Actor, code: str) -> DossierView:
    """A dossier with the documents of it the actor may see, in their order in the dossier."""
    actor.require(Role.RECORDS_OFFICER, "read dossiers")
    dossier, stats = _find(ctx, actor, code)
    code = nfc(code).strip()
    view = _view(load_schedule(ctx), code, dossier, stats)
    records = ctx.catalog.dossier_records(code, actor.clearance.rank)
    view.items = [_item(r) for r in sorted(records, key=lambda r: (r.metadata.order_in_dossier is None,
                                                                   r.metadata.order_in_dossier or 0,
                                                                   r.metadata.issued_date or date.max, r.id))]
    return view


def list_dossiers(ctx: Context, actor: Actor) -> list[DossierView]:
    """Registered dossiers and the codes documents name without a registration, by code."""
    actor.require(Role.RECORDS_OFFICER, "list dossiers")
    schedule = load_schedule(ctx)
    stats = {s.code: s for s in ctx.catalog.dossier_stats(actor.clearance.rank)}
    registered = {d.code: d for d in ctx.catalog.list_dossiers()}
    views = []
    for code in sorted(set(stats) | set(registered)):
        dossier = registered.get(code)
        if code not in stats and dossier is not None and ctx.catalog.live_document_ids(code):
            continue  # every document of it is above the actor's clearance: absent for them
        views.append(_view(schedule, code, dossier, stats.get(code)))
    return views
