"""Credentials: API tokens (hashed), browser sessions (hashed ids, CSRF secrets) and the sign-in throttle.

Like the users, these live only in the catalog: nothing here is in S3 or the audit trail, so a catalog rebuilt
from S3 alone has no tokens and no sessions (fail closed).

Revision ID: 0005
Revises: 0004
Create Date: 2027-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_name", sa.String(128), sa.ForeignKey("users.name", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("last_used_at", TZ, nullable=True),
        sa.Column("revoked_at", TZ, nullable=True),
    )
    op.create_index("ix_api_tokens_user_name", "api_tokens", ["user_name"])
    op.create_index("ix_api_tokens_token_hash", "api_tokens", ["token_hash"], unique=True)

    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_name", sa.String(128), sa.ForeignKey("users.name", ondelete="CASCADE"), nullable=False),
        sa.Column("csrf_secret", sa.String(64), nullable=False),
        sa.Column("client", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("last_seen_at", TZ, nullable=False),
        sa.Column("idle_seconds", sa.Integer(), nullable=False),
    )
    op.create_index("ix_web_sessions_user_name", "web_sessions", ["user_name"])
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])

    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", TZ, nullable=False),
        sa.Column("blocked_until", TZ, nullable=True),
    )
    op.create_index("ix_sign_in_throttle_window_start", "sign_in_throttle", ["window_start"])


def downgrade() -> None:
    for table in ("sign_in_throttle", "web_sessions", "api_tokens"):
        op.drop_table(table)
