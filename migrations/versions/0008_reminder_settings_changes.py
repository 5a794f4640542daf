"""The settings change log (issue 9): for each reminder settings generation, the timezones the change
touched, so that after a change a process re-reads only those timezones' slot groups instead of all
of them.

A new table, nothing to backfill: generations from before it have no row, so a process whose groups
are older than the upgrade reads them all again once, as before.

Revision ID: 0008_reminder_settings_changes
Revises: 0007_athlete_day_covering
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backrun_bot.storage.models import UTCDateTime

revision: str = "0008_reminder_settings_changes"
down_revision: str | None = "0007_athlete_day_covering"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminder_settings_changes",
        sa.Column("generation", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("timezones", sa.Text(), nullable=True),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("generation", name=op.f("pk_reminder_settings_changes")),
    )


def downgrade() -> None:
    op.drop_table("reminder_settings_changes")
