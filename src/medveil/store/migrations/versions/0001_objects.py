"""Create the objects index.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "objects",
        sa.Column("address", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(128), nullable=True),
        sa.Column("study_uid", sa.String(64), nullable=True),
        sa.Column("series_uid", sa.String(64), nullable=True),
        sa.Column("sop_uid", sa.String(64), nullable=True),
        sa.Column("modality", sa.String(16), nullable=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sealed_size", sa.BigInteger, nullable=False),
        sa.Column("cipher", sa.String(16), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_objects_subject", "objects", ["subject"])
    op.create_index("ix_objects_study_uid", "objects", ["study_uid"])


def downgrade() -> None:
    op.drop_table("objects")
