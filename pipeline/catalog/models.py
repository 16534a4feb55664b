"""The catalog's tables (SQLAlchemy 2 typed ORM). Derived from S3: every row can be rebuilt from metadata.json
files and the audit trail, except the batch journal and the users, which live only here.

Timestamps are stored timezone-aware and always come back as UTC-aware datetimes, whatever the engine
(SQLite keeps naive text; :class:`UTCDateTime` normalises both ways).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def to_utc(value: datetime) -> datetime:
    """UTC-aware copy of ``value``; a naive datetime is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that binds UTC and always returns UTC-aware values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        value = to_utc(value)
        # SQLite stores text without an offset: bind the naive UTC wall time so comparisons stay ordered.
        return value.replace(tzinfo=None) if getattr(dialect, "name", "") == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else to_utc(value)


class Base(DeclarativeBase):
    pass


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex
    doc_number: Mapped[str] = mapped_column(Text, default="")
    doc_type: Mapped[str] = mapped_column(Text, default="", index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    issuer: Mapped[str] = mapped_column(Text, default="")
    issued_date: Mapped[date | None] = mapped_column(Date)
    signer: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(Text, default="", index=True)
    language: Mapped[str] = mapped_column(String(32), default="")
    classification: Mapped[str] = mapped_column(String(16))
    classification_rank: Mapped[int] = mapped_column(Integer, index=True)
    origin: Mapped[str] = mapped_column(String(16))
    ocr_applied: Mapped[bool] = mapped_column(Boolean, default=False)
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    pdfa: Mapped[str] = mapped_column(String(8), default="")
    signed: Mapped[bool] = mapped_column(Boolean, default=False)
    signature_level: Mapped[str] = mapped_column(String(16), default="", index=True)
    signer_subject: Mapped[str] = mapped_column(Text, default="")
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    timestamped: Mapped[bool] = mapped_column(Boolean, default=False)
    batch: Mapped[str] = mapped_column(Text, default="", index=True)
    source_path: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    state: Mapped[str] = mapped_column(String(16), default="archived")
    dossier_code: Mapped[str] = mapped_column(Text, default="", index=True)
    retention_class: Mapped[str] = mapped_column(String(32), default="")
    retain_until: Mapped[date | None] = mapped_column(Date, index=True)
    permanent: Mapped[bool] = mapped_column(Boolean, default=False)
    record_json: Mapped[str] = mapped_column(Text)  # metadata.json as stored in S3


class Page(Base):
    __tablename__ = "pages"

    doc_id: Mapped[str] = mapped_column(String(64), ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    chars: Mapped[int] = mapped_column(Integer, default=0)
    confidence: Mapped[float | None] = mapped_column(Float)


class User(Base):
    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    roles: Mapped[str] = mapped_column(Text, default="")  # sorted, comma-separated Role values
    clearance: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(Text)


class Batch(Base):
    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(Text, default="")
    root: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(128), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(32), default="running")


class BatchItem(Base):
    __tablename__ = "batch_items"
    __table_args__ = (UniqueConstraint("batch_id", "source_path", name="uq_batch_items_batch_path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)  # plan order
    batch_id: Mapped[str] = mapped_column(String(128), ForeignKey("batches.id", ondelete="CASCADE"))
    source_path: Mapped[str] = mapped_column(Text)
    doc_id: Mapped[str | None] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(String(32), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    classification_rank: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: unknown (unreadable)


class AuditEvent(Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(128), index=True)
    action: Mapped[str] = mapped_column(String(64))
    object: Mapped[str] = mapped_column(Text, index=True)
    outcome: Mapped[str] = mapped_column(String(32))
    detail_json: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(128), default="")
    hash: Mapped[str] = mapped_column(String(128))


class HoldRow(Base):
    """A legal hold (derived from ``holds/<id>.json`` in S3); its documents in :class:`HoldItem`."""

    __tablename__ = "holds"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    case_ref: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    hold_json: Mapped[str] = mapped_column(Text)


class HoldItem(Base):
    __tablename__ = "hold_items"

    hold_id: Mapped[str] = mapped_column(String(64), ForeignKey("holds.id", ondelete="CASCADE"), primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class DossierRow(Base):
    """A registered dossier (hồ sơ), derived from ``dossiers/<code>.json`` in S3. Its documents are the rows of
    ``documents`` with its ``dossier_code``; counts and dates are derived from them at query time."""

    __tablename__ = "dossiers"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    retention_class: Mapped[str] = mapped_column(String(32), default="")
    access: Mapped[str] = mapped_column(String(16), default="")
    start_date: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[date | None] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    dossier_json: Mapped[str] = mapped_column(Text)


# ---- credentials (issue 13): live only here, like the users; never in S3 or the audit trail ----------------
class ApiToken(Base):
    """An API token: only the SHA-256 of the token is kept (the token is shown once, when issued)."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # public id, e.g. for `archive user revoke`
    user_name: Mapped[str] = mapped_column(String(128), ForeignKey("users.name", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)  # sha256 hex of the token
    label: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A browser session: the SHA-256 of the session id (the cookie holds the id), its user and CSRF secret."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(128), ForeignKey("users.name", ondelete="CASCADE"), index=True)
    csrf_secret: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # absolute end
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    idle_seconds: Mapped[int] = mapped_column(Integer)  # ends when not seen for this long


class SignInThrottle(Base):
    """Failed sign-ins per key (SHA-256 of ``name:<user>`` or ``client:<address>``), shared by every process."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


# ---- fixity (issue 14): operational state like the journal, kept only here (never rebuilt from S3) ---------
class FixityCheck(Base):
    """One fixity check of one document: every stored object re-read and its SHA-256 compared."""

    __tablename__ = "fixity_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    doc_id: Mapped[str] = mapped_column(String(64), index=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    problems: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of one-line problems
    actor: Mapped[str] = mapped_column(String(128), default="")


class FixityState(Base):
    """The last check of each document: the audit picks the oldest first (never-checked ones before them)."""

    __tablename__ = "fixity_state"

    doc_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ok: Mapped[bool] = mapped_column(Boolean, index=True)
    problems: Mapped[str] = mapped_column(Text, default="[]")
