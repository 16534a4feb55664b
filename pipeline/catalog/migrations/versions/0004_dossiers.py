"""Dossiers (hồ sơ): the registered dossiers, mirrored from ``dossiers/<code>.json`` in S3.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dossiers",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("retention_class", sa.String(32), nullable=False),
        sa.Column("access", sa.String(16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("closed_at", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dossier_json", sa.Text(), nullable=False),
    )
    op.create_index("ix_dossiers_closed_at", "dossiers", ["closed_at"])


def downgrade() -> None:
    op.drop_table("dossiers")
