"""Legal holds: holds and the documents each one covers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "holds",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("case_ref", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("released_at", TZ, nullable=True),
        sa.Column("hold_json", sa.Text(), nullable=False),
    )
    op.create_index("ix_holds_released_at", "holds", ["released_at"])
    op.create_table(
        "hold_items",
        sa.Column("hold_id", sa.String(64), sa.ForeignKey("holds.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("doc_id", sa.String(64), primary_key=True),
    )
    op.create_index("ix_hold_items_doc_id", "hold_items", ["doc_id"])


def downgrade() -> None:
    op.drop_table("hold_items")
    op.drop_table("holds")
