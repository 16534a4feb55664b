"""Retention columns on documents: dossier code, record class, retain-until date, permanent flag.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("dossier_code", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("retention_class", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("retain_until", sa.Date(), nullable=True))
        batch.add_column(sa.Column("permanent", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_documents_dossier_code", "documents", ["dossier_code"])
    op.create_index("ix_documents_retain_until", "documents", ["retain_until"])


def downgrade() -> None:
    op.drop_index("ix_documents_retain_until", "documents")
    op.drop_index("ix_documents_dossier_code", "documents")
    with op.batch_alter_table("documents") as batch:
        for column in ("permanent", "retain_until", "retention_class", "dossier_code"):
            batch.drop_column(column)
