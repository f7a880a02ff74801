"""initial schema: games, seats, events, snapshots

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _game_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["game_id"], ["games.id"], ondelete="CASCADE", name=f"fk_{table}_game_id_games")


def upgrade() -> None:
    op.create_table(
        "games",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("scenario", sa.String(), nullable=False),
        sa.Column("ruleset", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("join_code", sa.String(8), nullable=False),
        sa.Column("facilitator_key_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("forked_from_game", sa.String(32), nullable=True),
        sa.Column("forked_at_seq", sa.Integer(), nullable=True),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_games"),
        sa.UniqueConstraint("join_code", name="uq_games_join_code"),
    )
    op.create_table(
        "seats",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("game_id", sa.String(32), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("member", sa.String(3), nullable=True),
        sa.Column("player_name", sa.String(), nullable=False),
        sa.Column("credential_hash", sa.String(64), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("is_bot", sa.Boolean(), nullable=False, server_default=sa.false()),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_seats"),
        _game_fk("seats"),
        sa.UniqueConstraint("credential_hash", name="uq_seats_credential_hash"),
    )
    op.create_index("ix_seats_game_id", "seats", ["game_id"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("game_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        _timestamp("recorded_at"),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        _game_fk("events"),
        sa.UniqueConstraint("game_id", "seq", name="uq_events_game_id_seq"),
    )
    op.create_table(
        "snapshots",
        sa.Column("game_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("state_hash", sa.String(64), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("game_id", "seq", name="pk_snapshots"),
        _game_fk("snapshots"),
    )


def downgrade() -> None:
    op.drop_table("snapshots")
    op.drop_table("events")
    op.drop_index("ix_seats_game_id", table_name="seats")
    op.drop_table("seats")
    op.drop_table("games")
