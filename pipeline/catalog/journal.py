"""The batch journal: which source files a batch planned and what became of each (survives restarts)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline.catalog._sql import insert_for
from pipeline.catalog.errors import AlreadyExists, NotFound
from pipeline.catalog.models import Batch, BatchItem
from pipeline.catalog.rows import BatchItemRow, BatchRow
from pipeline.core.record import utcnow
from pipeline.core.vocabulary import DocState


def _counts(session: Session, batch_ids: list[str]) -> dict[str, dict[DocState, int]]:
    out: dict[str, dict[DocState, int]] = {b: {} for b in batch_ids}
    if not batch_ids:
        return out
    stmt = (select(BatchItem.batch_id, BatchItem.state, func.count()).where(BatchItem.batch_id.in_(batch_ids))
            .group_by(BatchItem.batch_id, BatchItem.state))
    for batch_id, state, n in session.execute(stmt):
        out[batch_id][DocState(state)] = n
    return out


def _row(batch: Batch, counts: dict[DocState, int]) -> BatchRow:
    return BatchRow(batch.id, batch.name, batch.root, batch.actor, batch.started_at, batch.finished_at, batch.state,
                    counts)


def start(session: Session, batch_id: str, name: str, root: str, actor_name: str) -> BatchRow:
    if session.get(Batch, batch_id) is not None:
        raise AlreadyExists(f"batch {batch_id!r} exists already")
    batch = Batch(id=batch_id, name=name, root=root, actor=actor_name, started_at=utcnow(), finished_at=None,
                  state="running")
    session.add(batch)
    try:
        session.flush()
    except IntegrityError as exc:
        raise AlreadyExists(f"batch {batch_id!r} exists already") from exc
    return _row(batch, {})


def _require(session: Session, batch_id: str) -> None:
    if session.get(Batch, batch_id) is None:
        raise NotFound(f"no batch {batch_id!r}")


def put_item(session: Session, batch_id: str, source_path: str, state: DocState | str, *, stage: str = "",
             reason: str = "", doc_id: str | None = None, keep_doc_id: bool = False, rank: int | None = None) -> None:
    """Insert or update the item (batch_id, source_path). ``keep_doc_id``: a None doc_id leaves the stored one;
    ``rank`` (the manifest's classification) is set when given and otherwise kept."""
    _require(session, batch_id)
    values = {"batch_id": batch_id, "source_path": source_path, "doc_id": doc_id, "state": DocState(state).value,
              "stage": stage, "reason": reason, "updated_at": utcnow(), "classification_rank": rank}
    stmt = insert_for(session, BatchItem.__table__).values(**values)
    update = {k: stmt.excluded[k] for k in ("state", "stage", "reason", "updated_at")}
    if rank is not None:
        update["classification_rank"] = stmt.excluded.classification_rank
    if doc_id is not None or not keep_doc_id:
        update["doc_id"] = stmt.excluded.doc_id
    session.execute(stmt.on_conflict_do_update(index_elements=["batch_id", "source_path"], set_=update))


def items(session: Session, batch_id: str) -> list[BatchItemRow]:
    stmt = select(BatchItem).where(BatchItem.batch_id == batch_id).order_by(BatchItem.id)
    return [BatchItemRow(i.batch_id, i.source_path, i.doc_id, DocState(i.state), i.stage, i.reason, i.updated_at,
                         i.classification_rank) for i in session.scalars(stmt)]


def finish(session: Session, batch_id: str, state: str) -> BatchRow:
    batch = session.get(Batch, batch_id, with_for_update=True)
    if batch is None:
        raise NotFound(f"no batch {batch_id!r}")
    batch.state = state
    batch.finished_at = utcnow()
    session.flush()
    return _row(batch, _counts(session, [batch_id])[batch_id])


def get(session: Session, batch_id: str) -> BatchRow | None:
    batch = session.get(Batch, batch_id)
    return None if batch is None else _row(batch, _counts(session, [batch_id])[batch_id])


def list_all(session: Session) -> list[BatchRow]:
    batches = list(session.scalars(select(Batch).order_by(Batch.started_at.desc(), Batch.id)))
    counts = _counts(session, [b.id for b in batches])
    return [_row(b, counts[b.id]) for b in batches]
