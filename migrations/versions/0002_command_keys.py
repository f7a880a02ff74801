"""command keys: a client's own name for a command, so that sending it again does not play it twice

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
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
    op.add_column("events", sa.Column("command_key", sa.String(100), nullable=True))
    # A unique index rather than a constraint: SQLite cannot add a constraint to an existing table.  Partial: only
    # commands sent with a key are indexed.
    keyed = sa.text("command_key IS NOT NULL")
    op.create_index(
        "ix_events_game_id_command_key",
        "events",
        ["game_id", "command_key"],
        unique=True,
        sqlite_where=keyed,
        postgresql_where=keyed,
    )


def downgrade() -> None:
    op.drop_index("ix_events_game_id_command_key", table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("command_key")
