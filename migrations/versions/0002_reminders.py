"""Reminder settings per team, mention opt-out per athlete, and the delivery ledger.

Revision ID: 0002_reminders
Revises: 0001_initial
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backrun_bot.storage.models import UTCDateTime

revision: str = "0002_reminders"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("teams") as batch:
        batch.add_column(sa.Column("reminder_channel_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("warmup_time", sa.String(5), server_default="07:00", nullable=True))
        batch.add_column(sa.Column("cooldown_time", sa.String(5), server_default="19:00", nullable=True))
        batch.add_column(sa.Column("reminder_days", sa.String(7), server_default="0123456", nullable=False))
        batch.add_column(sa.Column("heavy_meters", sa.Float(), server_default="1600", nullable=False))
        batch.add_column(
            sa.Column("reminders_active", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("paused_until", sa.Date(), nullable=True))
        batch.add_column(sa.Column("pause_reason", sa.String(200), nullable=True))
        batch.add_column(sa.Column("reminders_updated_at", UTCDateTime(), nullable=True))
        batch.create_index("ix_teams_reminder_slots", ["timezone", "warmup_time", "cooldown_time"])
    with op.batch_alter_table("athletes") as batch:
        batch.add_column(
            sa.Column("mentions_enabled", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    op.create_table(
        "reminder_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.BigInteger(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("slot", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="1", nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("detail", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_reminder_deliveries_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_deliveries")),
        sa.UniqueConstraint("team_id", "local_day", "slot", name="uq_reminder_deliveries_key"),
    )


def downgrade() -> None:
    op.drop_table("reminder_deliveries")
    with op.batch_alter_table("athletes") as batch:
        batch.drop_column("mentions_enabled")
    with op.batch_alter_table("teams") as batch:
        batch.drop_index("ix_teams_reminder_slots")
        batch.drop_column("reminders_updated_at")
        batch.drop_column("pause_reason")
        batch.drop_column("paused_until")
        batch.drop_column("reminders_active")
        batch.drop_column("heavy_meters")
        batch.drop_column("reminder_days")
        batch.drop_column("cooldown_time")
        batch.drop_column("warmup_time")
        batch.drop_column("reminder_channel_id")
