"""What issue 10 keeps per team and per athlete: the coach role, the display units, the weekly
summary switch and when the bot was removed from the server (for the retention job); per athlete,
the streak mark (what is known of their streaks up to a day no /log reaches any more, so that /stats
reads only the days after it; issue 9); the servers
already welcomed (kept apart from ``teams`` so that a server's deletion does not make the bot welcome
it again); and the days the bot suggested a day off to an athlete (a streak does not break on them).

All new columns have defaults, nothing to backfill.

Revision ID: 0009_teams_and_coaches
Revises: 0008_reminder_settings_changes
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backrun_bot.storage.models import UTCDateTime

revision: str = "0009_teams_and_coaches"
down_revision: str | None = "0008_reminder_settings_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("teams") as batch:
        batch.add_column(sa.Column("coach_role_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("units", sa.String(8), server_default="metric", nullable=False))
        batch.add_column(sa.Column("weekly_summary", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch.add_column(sa.Column("removed_at", UTCDateTime(), nullable=True))
    # The retention job's question: which servers were left longer ago than RETENTION_DAYS.
    op.create_index(
        "ix_teams_removed_at",
        "teams",
        ["removed_at"],
        sqlite_where=sa.text("removed_at IS NOT NULL"),
        postgresql_where=sa.text("removed_at IS NOT NULL"),
    )
    with op.batch_alter_table("athletes") as batch:
        batch.add_column(sa.Column("streak_through", sa.Date(), nullable=True))
        batch.add_column(sa.Column("streak_best", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("streak_open", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("streak_epoch", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "guild_welcomes",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("welcomed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_guild_welcomes")),
    )
    op.create_table(
        "rest_days",
        sa.Column("athlete_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["athlete_id"],
            ["athletes.id"],
            name=op.f("fk_rest_days_athlete_id_athletes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("athlete_id", "day", name=op.f("pk_rest_days")),
    )


def downgrade() -> None:
    op.drop_table("rest_days")
    op.drop_table("guild_welcomes")
    with op.batch_alter_table("athletes") as batch:
        batch.drop_column("streak_epoch")
        batch.drop_column("streak_open")
        batch.drop_column("streak_best")
        batch.drop_column("streak_through")
    op.drop_index("ix_teams_removed_at", table_name="teams")
    with op.batch_alter_table("teams") as batch:
        batch.drop_column("removed_at")
        batch.drop_column("weekly_summary")
        batch.drop_column("units")
        batch.drop_column("coach_role_id")
