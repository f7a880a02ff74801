"""command ends: which events close the run of events one command brought, the moments play can be turned back to

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Events stored before this revision count as ends: every one of them stays a moment to turn back to.
    op.add_column("events", sa.Column("ends_command", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("ends_command")
