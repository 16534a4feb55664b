"""Fixity audits (issue 14): every check of a document's stored objects (``fixity_checks``) and the last one per
document (``fixity_state``), so the periodic audit takes the oldest-checked first. Operational state like the
batch journal: kept only in the catalog, never rebuilt from S3 (the failures are also audit events).

Revision ID: 0007
Revises: 0006
Create Date: 2027-01-15 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "fixity_checks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("doc_id", sa.String(64), nullable=False),
        sa.Column("checked_at", TZ, nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
    )
    op.create_index("ix_fixity_checks_doc_id", "fixity_checks", ["doc_id"])
    op.create_index("ix_fixity_checks_checked_at", "fixity_checks", ["checked_at"])
    op.create_table(
        "fixity_state",
        sa.Column("doc_id", sa.String(64), primary_key=True),
        sa.Column("checked_at", TZ, nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
    )
    op.create_index("ix_fixity_state_checked_at", "fixity_state", ["checked_at"])
    op.create_index("ix_fixity_state_ok", "fixity_state", ["ok"])


def downgrade() -> None:
    op.drop_table("fixity_state")
    op.drop_table("fixity_checks")
