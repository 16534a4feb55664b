"""Initial catalog schema: documents, pages, users, batches, batch_items, audit_events.

Revision ID: 0001
Revises:
Create Date: 2026-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("doc_number", sa.Text(), nullable=False),
        sa.Column("doc_type", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("issued_date", sa.Date(), nullable=True),
        sa.Column("signer", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("language", sa.String(32), nullable=False),
        sa.Column("classification", sa.String(16), nullable=False),
        sa.Column("classification_rank", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("ocr_applied", sa.Boolean(), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("pdfa", sa.String(8), nullable=False),
        sa.Column("signed", sa.Boolean(), nullable=False),
        sa.Column("signature_level", sa.String(16), nullable=False),
        sa.Column("signer_subject", sa.Text(), nullable=False),
        sa.Column("signed_at", TZ, nullable=True),
        sa.Column("timestamped", sa.Boolean(), nullable=False),
        sa.Column("batch", sa.Text(), nullable=False),
        sa.Column("source_path", sa.Text(), nullable=False),
        sa.Column("received_at", TZ, nullable=True),
        sa.Column("archived_at", TZ, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("record_json", sa.Text(), nullable=False),
    )
    for column in ("doc_type", "unit", "classification_rank", "signature_level", "batch", "archived_at"):
        op.create_index(f"ix_documents_{column}", "documents", [column])

    op.create_table(
        "pages",
        sa.Column("doc_id", sa.String(64), sa.ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("number", sa.Integer(), primary_key=True),
        sa.Column("chars", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
    )

    op.create_table(
        "users",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("roles", sa.Text(), nullable=False),
        sa.Column("clearance", sa.String(16), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
    )

    op.create_table(
        "batches",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("root", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("finished_at", TZ, nullable=True),
        sa.Column("state", sa.String(32), nullable=False),
    )
    op.create_index("ix_batches_started_at", "batches", ["started_at"])

    op.create_table(
        "batch_items",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("batch_id", sa.String(128), sa.ForeignKey("batches.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source_path", sa.Text(), nullable=False),
        sa.Column("doc_id", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.UniqueConstraint("batch_id", "source_path", name="uq_batch_items_batch_path"),
    )
    op.create_index("ix_batch_items_doc_id", "batch_items", ["doc_id"])

    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("detail_json", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(128), nullable=False),
        sa.Column("hash", sa.String(128), nullable=False),
    )
    for column in ("at", "actor", "object"):
        op.create_index(f"ix_audit_events_{column}", "audit_events", [column])


def downgrade() -> None:
    for table in ("audit_events", "batch_items", "batches", "users", "pages", "documents"):
        op.drop_table(table)
