"""The derived relational catalog: one class over SQLite (embedded) or PostgreSQL (production).

S3 is the system of record; this catalog is rebuilt from it (documents, audit mirror) and additionally keeps
the users and the batch journal. Opening a catalog runs its Alembic migrations to head. Every document read
takes ``max_rank`` (``Classification.rank`` of the caller's clearance) and filters in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from types import TracebackType
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from pipeline.catalog import audit, credentials, documents, dossiers, fixity, holds, journal, users
from pipeline.catalog.credentials import SessionRow, TokenRow
from pipeline.catalog.dossiers import DossierStats
from pipeline.catalog.engine import SQLITE_BEGIN, current_revision, make_engine, migrate
from pipeline.catalog.fixity import FixityCoverage, FixityRow
from pipeline.catalog.rows import BatchItemRow, BatchRow, DocumentRow, StatsRow, UserRow
from pipeline.catalog.snapshot import snapshot as _snapshot
from pipeline.core.dossier import Dossier
from pipeline.core.hold import Hold
from pipeline.core.record import DocumentRecord
from pipeline.core.vocabulary import Classification, DocState, Role


def _rank(max_rank: int | Classification | str) -> int:
    return max_rank if isinstance(max_rank, int) else Classification.parse(max_rank).rank


class Catalog:
    def __init__(self, url: str, *, auto_migrate: bool = True) -> None:
        self.engine = make_engine(url)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self.engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}),
                                   expire_on_commit=False)
        if auto_migrate:
            self.migrate()

    # ---- lifecycle ------------------------------------------------------------------------------
    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        """``alembic upgrade head`` on this catalog's engine (a no-op when already at head)."""
        migrate(self.engine)

    def revision(self) -> str | None:
        return current_revision(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """One write transaction (``BEGIN IMMEDIATE`` on SQLite), committed on success."""
        with self._write.begin() as session:
            yield session

    # ---- documents ------------------------------------------------------------------------------
    def upsert_document(self, record: DocumentRecord, state: DocState | str = DocState.ARCHIVED,
                        record_json: str | None = None) -> None:
        """Insert or replace the document and its pages. ``record_json``: the metadata.json text exactly as
        stored in S3 (default: ``record.to_json()``)."""
        with self.writing() as session:
            documents.upsert(session, record, DocState(state), record_json)

    def get_record(self, doc_id: str, max_rank: int) -> DocumentRecord | None:
        with self.reading() as session:
            text = documents.get_record_json(session, doc_id, _rank(max_rank))
        return None if text is None else DocumentRecord.from_json(text)

    def resolve_prefix(self, prefix: str, max_rank: int) -> list[str]:
        with self.reading() as session:
            return documents.resolve_prefix(session, prefix, _rank(max_rank))

    def list_documents(self, max_rank: int, limit: int | None = None) -> list[DocumentRow]:
        with self.reading() as session:
            return documents.list_rows(session, _rank(max_rank), limit)

    def iter_records(self, max_rank: int) -> Iterator[DocumentRecord]:
        with self.reading() as session:
            for text in documents.iter_record_json(session, _rank(max_rank)):
                yield DocumentRecord.from_json(text)

    def count_documents(self, max_rank: int) -> int:
        with self.reading() as session:
            return documents.count(session, _rank(max_rank))

    def stats_rows(self, max_rank: int) -> list[StatsRow]:
        with self.reading() as session:
            return documents.stats_rows(session, _rank(max_rank))

    def due_documents(self, max_rank: int, today: date) -> list[str]:
        """Ids of the documents (within ``max_rank``) whose retention ended before ``today``."""
        with self.reading() as session:
            return documents.due_ids(session, _rank(max_rank), today)

    def permanent_documents(self) -> list[str]:
        with self.reading() as session:
            return documents.permanent_ids(session)

    def upsert_hold(self, hold: Hold) -> None:
        with self.writing() as session:
            holds.upsert(session, hold)

    def get_hold(self, hold_id: str) -> Hold | None:
        with self.reading() as session:
            return holds.get(session, hold_id)

    def list_holds(self) -> list[Hold]:
        with self.reading() as session:
            return holds.all_holds(session)

    def held_documents(self, doc_ids: list[str]) -> set[str]:
        """Those of ``doc_ids`` under at least one active hold."""
        with self.reading() as session:
            return holds.held(session, doc_ids)

    # ---- dossiers (pipeline.catalog.dossiers) ---------------------------------------------------
    def upsert_dossier(self, dossier: Dossier) -> None:
        with self.writing() as session:
            dossiers.upsert(session, dossier)

    def get_dossier(self, code: str) -> Dossier | None:
        with self.reading() as session:
            return dossiers.get(session, code)

    def list_dossiers(self) -> list[Dossier]:
        with self.reading() as session:
            return dossiers.all_dossiers(session)

    def dossier_closings(self) -> dict[str, date]:
        with self.reading() as session:
            return dossiers.closings(session)

    def dossier_stats(self, max_rank: int, code: str | None = None) -> list[DossierStats]:
        with self.reading() as session:
            return dossiers.stats(session, _rank(max_rank), code)

    def dossier_records(self, code: str, max_rank: int) -> list[DocumentRecord]:
        with self.reading() as session:
            return [DocumentRecord.from_json(t) for t in dossiers.record_jsons(session, code, _rank(max_rank))]

    def live_document_ids(self, dossier_code: str | None = None) -> list[str]:
        """Ids of every document not destroyed (in ``dossier_code``), whatever its classification."""
        with self.reading() as session:
            return dossiers.live_ids(session, dossier_code)

    def documents_with_level(self, level: str) -> list[str]:
        """Ids whose signature level is ``level`` (e.g. ``B-LTA`` for timestamp renewal); no clearance filter:
        this is for the system actor."""
        with self.reading() as session:
            return documents.ids_with_level(session, level)

    def delete_all_documents(self) -> int:
        with self.writing() as session:
            return documents.delete_all(session)

    # ---- users ----------------------------------------------------------------------------------
    def add_user(self, name: str, roles: Iterable[Role | str], clearance: Classification | str,
                 created_at: datetime | None = None) -> UserRow:
        with self.writing() as session:
            return users.add(session, name, roles, clearance, created_at)

    def get_user(self, name: str) -> UserRow | None:
        with self.reading() as session:
            return users.get(session, name)

    def list_users(self) -> list[UserRow]:
        with self.reading() as session:
            return users.list_all(session)

    def update_user(self, name: str, roles: Iterable[Role | str] | None = None,
                    clearance: Classification | str | None = None, disabled: bool | None = None,
                    password_hash: str | None = None) -> UserRow:
        with self.writing() as session:
            return users.update(session, name, roles, clearance, disabled, password_hash)

    # ---- batch journal --------------------------------------------------------------------------
    def start_batch(self, batch_id: str, name: str, root: str, actor_name: str,
                    items: Iterable[tuple[str, str | None, int | None]] = ()) -> BatchRow:
        """A new batch with its planned items (source path, doc id, classification rank), in one transaction: a
        process killed while journalling never leaves a batch that looks complete with items missing."""
        with self.writing() as session:
            row = journal.start(session, batch_id, name, root, actor_name)
            for source_path, doc_id, rank in items:
                journal.put_item(session, batch_id, source_path, DocState.PLANNED, doc_id=doc_id, rank=rank)
            return row

    def plan_item(self, batch_id: str, source_path: str, doc_id: str | None,
                  state: DocState | str = DocState.PLANNED, rank: int | None = None) -> None:
        """Record (or re-record) a planned item: state, doc id, classification rank (None: unknown); stage and
        reason are cleared."""
        with self.writing() as session:
            journal.put_item(session, batch_id, source_path, state, doc_id=doc_id, rank=rank)

    def set_item_state(self, batch_id: str, source_path: str, state: DocState | str, stage: str = "",
                       reason: str = "", doc_id: str | None = None) -> None:
        """Move an item to ``state`` (inserting it if it was never planned); ``doc_id=None`` keeps the known id."""
        with self.writing() as session:
            journal.put_item(session, batch_id, source_path, state, stage=stage, reason=reason, doc_id=doc_id,
                             keep_doc_id=True)

    def batch_items(self, batch_id: str) -> list[BatchItemRow]:
        with self.reading() as session:
            return journal.items(session, batch_id)

    def finish_batch(self, batch_id: str, state: str) -> BatchRow:
        with self.writing() as session:
            return journal.finish(session, batch_id, state)

    def get_batch(self, batch_id: str) -> BatchRow | None:
        with self.reading() as session:
            return journal.get(session, batch_id)

    def list_batches(self) -> list[BatchRow]:
        with self.reading() as session:
            return journal.list_all(session)

    # ---- audit mirror ---------------------------------------------------------------------------
    def add_audit_event(self, event: dict[str, Any]) -> bool:
        """Mirror one event; idempotent per (seq, hash); a different hash for a known seq raises AuditConflict."""
        with self.writing() as session:
            return audit.add(session, event)

    def last_audit_event(self) -> dict[str, Any] | None:
        with self.reading() as session:
            return audit.last(session)

    def query_audit(self, object_id: str | None = None, actor: str | None = None,
                    date_from: datetime | None = None, date_to: datetime | None = None,
                    limit: int | None = None) -> list[dict[str, Any]]:
        with self.reading() as session:
            return audit.query(session, object_id, actor, date_from, date_to, limit)

    def delete_all_audit(self) -> int:
        with self.writing() as session:
            return audit.delete_all(session)

    # ---- fixity (pipeline.catalog.fixity): operational state, not rebuilt from S3 -------------------------
    def record_fixity(self, doc_id: str, at: datetime, ok: bool, problems: list[str], actor: str) -> None:
        with self.writing() as session:
            fixity.record(session, doc_id, at, ok, problems, actor)

    def fixity_due(self, limit: int) -> list[str]:
        """The next documents for the fixity audit: never checked first, then the oldest checked (every class)."""
        with self.reading() as session:
            return fixity.oldest_ids(session, limit)

    def fixity_last_ok(self, doc_ids: list[str]) -> dict[str, bool]:
        with self.reading() as session:
            return fixity.last_ok(session, doc_ids)

    def fixity_failing(self, max_rank: int) -> list[FixityRow]:
        with self.reading() as session:
            return fixity.failing(session, _rank(max_rank))

    def fixity_failing_count(self) -> int:
        with self.reading() as session:
            return fixity.failing_count(session)

    def fixity_coverage(self, max_rank: int, since: datetime) -> FixityCoverage:
        with self.reading() as session:
            return fixity.coverage(session, _rank(max_rank), since)

    # ---- rebuild check --------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self.reading() as session:
            return _snapshot(session)

    # ---- credentials (pipeline.catalog.credentials): live only here, never in S3 ------------------------
    def set_password_hash(self, name: str, password_hash: str) -> int:
        """Set a user's password hash and end the user's browser sessions; returns how many ended."""
        with self.writing() as session:
            return credentials.set_password(session, name, password_hash)

    def replace_password_hash(self, name: str, old: str, new: str) -> bool:
        """Rehash: replace ``old`` by ``new`` only if the stored hash is still ``old``."""
        with self.writing() as session:
            return credentials.replace_password_hash(session, name, old, new)

    def add_token(self, token_id: str, user_name: str, token_hash: str, label: str, created_by: str,
                  created_at: datetime, expires_at: datetime) -> TokenRow:
        with self.writing() as session:
            return credentials.add_token(session, token_id, user_name, token_hash, label, created_by, created_at,
                                         expires_at)

    def get_token(self, token_id: str) -> TokenRow | None:
        with self.reading() as session:
            return credentials.get_token(session, token_id)

    def token_id_for_hash(self, token_hash: str) -> str | None:
        with self.reading() as session:
            return credentials.token_id_for_hash(session, token_hash)

    def find_token(self, token_hash: str) -> tuple[TokenRow, UserRow] | None:
        with self.reading() as session:
            return credentials.find_token(session, token_hash)

    def list_tokens(self, user_name: str) -> list[TokenRow]:
        with self.reading() as session:
            return credentials.list_tokens(session, user_name)

    def revoke_token(self, token_id: str, at: datetime) -> TokenRow | None:
        with self.writing() as session:
            return credentials.revoke_token(session, token_id, at)

    def touch_token(self, token_id: str, at: datetime, every: timedelta) -> None:
        with self.writing() as session:
            credentials.touch_token(session, token_id, at, every)

    def add_session(self, id_hash: str, user_name: str, csrf_secret: str, client: str, created_at: datetime,
                    expires_at: datetime, idle_seconds: int) -> SessionRow:
        with self.writing() as session:
            credentials.prune_sessions(session, created_at)
            return credentials.add_session(session, id_hash, user_name, csrf_secret, client, created_at,
                                           expires_at, idle_seconds)

    def find_session(self, id_hash: str) -> tuple[SessionRow, UserRow] | None:
        with self.reading() as session:
            return credentials.find_session(session, id_hash)

    def touch_session(self, id_hash: str, at: datetime, every: timedelta) -> None:
        with self.writing() as session:
            credentials.touch_session(session, id_hash, at, every)

    def delete_session(self, id_hash: str) -> bool:
        with self.writing() as session:
            return credentials.delete_session(session, id_hash)

    def delete_user_sessions(self, user_name: str) -> int:
        with self.writing() as session:
            return credentials.delete_user_sessions(session, user_name)

    def throttle_reserve(self, limits: Sequence[tuple[str, int]], now: datetime, window: timedelta,
                         lockout: timedelta) -> datetime | None:
        """Count an attempt against each ``(key, limit)``, or return until when a key is blocked."""
        with self.writing() as session:
            return credentials.throttle_reserve(session, limits, now, window, lockout)

    def throttle_release(self, limits: Sequence[tuple[str, int]], reset: Sequence[str] = ()) -> None:
        with self.writing() as session:
            credentials.throttle_release(session, limits, reset)


def open_catalog(url: str) -> Catalog:
    """Open (and migrate) the catalog at ``url``: ``sqlite:///path`` or ``postgresql://user:pw@host/db``."""
    return Catalog(url)
